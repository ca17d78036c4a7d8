// Gives String.prototype its fast (descriptor-array) properties back after ioredis has loaded.
//
// Why: ioredis 6 defines `class VerbatimString extends String` (built/resp/verbatim-string.js). In V8, making
// String.prototype the parent of a class prototype normalizes it to dictionary mode ("prototype setup
// mode"), and nothing in a normal run makes it fast again: V8 does that when an inline cache misses on an
// object whose prototype chain includes it, and strings are primitives, not objects. With String.prototype
// in dictionary mode, optimized code cannot inline `s.charCodeAt`, `s.toLowerCase`, `s.slice`, ...: every
// such load, in the gateway and in undici alike, became a call to V8's generic LoadIC (issue 17: 7k of the
// gateway's ~275k instructions per proxied request, found with --trace-turbo on checkRequest).
//
// How: a for-in over an object asks V8 to make the objects it enumerates fast (JSObject::MakePrototypesFast
// from the receiver on, in the for-in runtime), which for a prototype in dictionary mode migrates it back.
// String.prototype's own properties are all non-enumerable, so the loop body never runs; the only effect is
// on V8's internal representation. Number.prototype is treated the same way (`extends Number` does the same
// to it) although no dependency does that today.

/** Runs the for-in described above on the primitive wrappers' prototypes. Call after all imports ran. */
export function restoreFastPrototypes(): void {
  for (const proto of [String.prototype, Number.prototype]) {
    for (const key in proto) void key;
  }
}

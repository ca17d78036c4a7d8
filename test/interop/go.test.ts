// The official Go SDK (github.com/modelcontextprotocol/go-sdk, pinned in test/interop/go/go.mod) as server and
// client through the gateway.
import { sdkBothSides } from './sdk-scenarios.ts';

sdkBothSides('go');

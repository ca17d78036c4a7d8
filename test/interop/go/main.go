// An MCP server and client on the official Go SDK (github.com/modelcontextprotocol/go-sdk, pinned in go.mod),
// for the interop suite (test/interop). One binary, two commands:
//
//	interop server -name a     Streamable HTTP at /mcp and the 2024-11-05 HTTP+SSE transport at /sse (the SDK's
//	                           layout: `data: /sse?sessionid=<id>`, messages POSTed to the stream's path). Tools
//	                           match the demo backend's: whoami, ask_model (sampling), ask_user (elicitation).
//	                           Prints {"event":"listening","port":…,"url":…} once it accepts connections.
//	interop client -entries http://127.0.0.1:1,http://127.0.0.1:2 -transport streamable|sse
//	                           Sessions whose HTTP requests go to each entry in turn; one JSON line per session.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: interop server|client [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "server":
		serve(os.Args[2:])
	case "client":
		runClient(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "usage: interop server|client [flags]")
		os.Exit(2)
	}
}

type replicaOut struct {
	Replica string `json:"replica"`
	SDK     string `json:"sdk"`
}

type answerOut struct {
	Replica string `json:"replica"`
	Answer  string `json:"answer"`
	Action  string `json:"action,omitempty"`
	Model   string `json:"model,omitempty"`
}

type promptIn struct {
	Prompt string `json:"prompt"`
}

type questionIn struct {
	Question string `json:"question"`
}

func serve(argv []string) {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	name := fs.String("name", "", "replica name")
	_ = fs.Parse(argv)

	server := mcp.NewServer(&mcp.Implementation{Name: "interop-go", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "whoami", Description: "Names the backend replica that serves this request."},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, replicaOut, error) {
			return nil, replicaOut{Replica: *name, SDK: "go"}, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "ask_model", Description: "Asks the client's model a question (sampling)."},
		func(ctx context.Context, req *mcp.CallToolRequest, in promptIn) (*mcp.CallToolResult, answerOut, error) {
			res, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{
				Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Prompt}}},
				MaxTokens: 100,
			})
			if err != nil {
				return nil, answerOut{}, err
			}
			text := "[non-text answer]"
			if t, ok := res.Content.(*mcp.TextContent); ok {
				text = t.Text
			}
			return nil, answerOut{Replica: *name, Answer: text, Model: res.Model}, nil
		})
	mcp.AddTool(server, &mcp.Tool{Name: "ask_user", Description: "Asks the user a question (elicitation)."},
		func(ctx context.Context, req *mcp.CallToolRequest, in questionIn) (*mcp.CallToolResult, answerOut, error) {
			res, err := req.Session.Elicit(ctx, &mcp.ElicitParams{
				Message: in.Question,
				RequestedSchema: map[string]any{
					"type":       "object",
					"properties": map[string]any{"answer": map[string]any{"type": "string"}},
					"required":   []string{"answer"},
				},
			})
			if err != nil {
				return nil, answerOut{}, err
			}
			answer, _ := res.Content["answer"].(string)
			return nil, answerOut{Replica: *name, Answer: answer, Action: res.Action}, nil
		})

	get := func(*http.Request) *mcp.Server { return server }
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcp.NewStreamableHTTPHandler(get, nil))
	mux.Handle("/sse", mcp.NewSSEHandler(get, nil))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ready, _ := json.Marshal(map[string]any{"event": "listening", "port": port, "url": fmt.Sprintf("http://127.0.0.1:%d/mcp", port)})
	fmt.Println(string(ready))
	srv := &http.Server{Handler: mux}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// rotating sends each request to the next entry (scheme and host), path and query unchanged.
type rotating struct {
	entries []*url.URL
	next    atomic.Int64
	mu      sync.Mutex
	ports   map[string]bool
	session string
}

func (r *rotating) RoundTrip(req *http.Request) (*http.Response, error) {
	e := r.entries[int(r.next.Add(1)-1)%len(r.entries)]
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = e.Scheme, e.Host, e.Host
	r.mu.Lock()
	r.ports[e.Port()] = true
	r.mu.Unlock()
	res, err := http.DefaultTransport.RoundTrip(out)
	if err == nil {
		if sid := res.Header.Get("Mcp-Session-Id"); sid != "" {
			r.mu.Lock()
			r.session = sid
			r.mu.Unlock()
		}
	}
	return res, err
}

type sessionOut struct {
	Session         int      `json:"session"`
	Replicas        []string `json:"replicas"`
	Sampling        int64    `json:"sampling"`
	Elicitation     int64    `json:"elicitation"`
	Answers         []string `json:"answers"`
	ProtocolVersion string   `json:"protocolVersion,omitempty"`
	SessionID       string   `json:"sessionId,omitempty"`
	Ports           []string `json:"ports"`
	Error           string   `json:"error,omitempty"`
}

func runClient(argv []string) {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	entriesFlag := fs.String("entries", "", "comma-separated origins")
	transport := fs.String("transport", "streamable", "streamable or sse")
	mcpPath := fs.String("mcp-path", "/mcp", "")
	ssePath := fs.String("sse-path", "/sse", "")
	sessions := fs.Int("sessions", 3, "")
	rounds := fs.Int("rounds", 2, "")
	parallel := fs.Int("parallel", 3, "")
	keep := fs.Bool("keep", false, "leave Streamable HTTP sessions open (no DELETE)")
	protocol := fs.String("protocol", "2025-11-25", "protocol version to initialize with")
	stepTimeout := fs.Duration("step-timeout", 30*time.Second, "bound on every step (an SDK hang shows as an error)")
	_ = fs.Parse(argv)

	var entries []*url.URL
	for _, e := range strings.Split(*entriesFlag, ",") {
		u, err := url.Parse(e)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		entries = append(entries, u)
	}
	sem := make(chan struct{}, *parallel)
	var wg sync.WaitGroup
	var printMu sync.Mutex
	for i := 0; i < *sessions; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out := oneSession(i, entries, *transport, *mcpPath, *ssePath, *rounds, *keep, *protocol, *stepTimeout)
			line, _ := json.Marshal(out)
			printMu.Lock()
			fmt.Println(string(line))
			printMu.Unlock()
		}(i)
	}
	wg.Wait()
}

func oneSession(i int, entries []*url.URL, transport, mcpPath, ssePath string, rounds int, keep bool, protocol string, step time.Duration) (out sessionOut) {
	out = sessionOut{Session: i, Replicas: []string{}, Answers: []string{}}
	rt := &rotating{entries: entries, ports: map[string]bool{}}
	defer func() {
		rt.mu.Lock()
		out.SessionID = rt.session
		for p := range rt.ports {
			out.Ports = append(out.Ports, p)
		}
		rt.mu.Unlock()
	}()
	var sampling, elicitation atomic.Int64
	client := mcp.NewClient(&mcp.Implementation{Name: "interop-go-client", Version: "1.0.0"}, &mcp.ClientOptions{
		CreateMessageHandler: func(ctx context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			sampling.Add(1)
			prompt := ""
			if len(req.Params.Messages) > 0 {
				if t, ok := req.Params.Messages[0].Content.(*mcp.TextContent); ok {
					prompt = t.Text
				}
			}
			return &mcp.CreateMessageResult{Role: "assistant", Model: "test-model", Content: &mcp.TextContent{Text: "model says: " + prompt}}, nil
		},
		ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			elicitation.Add(1)
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"answer": "user says: " + req.Params.Message}}, nil
		},
	})
	defer func() {
		out.Sampling, out.Elicitation = sampling.Load(), elicitation.Load()
	}()
	httpClient := &http.Client{Transport: rt}
	base := *entries[0]
	var t mcp.Transport
	if transport == "sse" {
		base.Path = ssePath
		t = &mcp.SSEClientTransport{Endpoint: base.String(), HTTPClient: httpClient}
	} else {
		base.Path = mcpPath
		t = &mcp.StreamableClientTransport{Endpoint: base.String(), HTTPClient: httpClient, MaxRetries: -1}
	}
	// The connection lives as long as its context (the SSE transport's GET stream is made with it): bound the
	// connect with a timer, not a context deadline.
	sessionCtx, endSession := context.WithCancel(context.Background())
	defer endSession()
	bound := time.AfterFunc(step, endSession)
	cs, err := client.Connect(sessionCtx, t, &mcp.ClientSessionOptions{ProtocolVersion: protocol})
	bound.Stop()
	if err != nil {
		out.Error = "connect: " + err.Error()
		return out
	}
	if !keep {
		defer cs.Close()
	}
	if res := cs.InitializeResult(); res != nil {
		out.ProtocolVersion = res.ProtocolVersion
	}
	if transport == "sse" {
		out.SessionID = cs.ID()
	}
	calls := []struct {
		name string
		args map[string]any
	}{{"whoami", map[string]any{}}, {"ask_model", map[string]any{"prompt": "q"}}, {"ask_user", map[string]any{"question": "u"}}}
	for r := 0; r < rounds; r++ {
		for _, c := range calls {
			ctx, cancel := context.WithTimeout(context.Background(), step)
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.name, Arguments: c.args})
			cancel()
			if err != nil {
				out.Error = c.name + ": " + err.Error()
				return out
			}
			if res.IsError {
				raw, _ := json.Marshal(res.Content)
				out.Error = c.name + " failed: " + string(raw)
				return out
			}
			var data answerOut
			raw, _ := json.Marshal(res.StructuredContent)
			_ = json.Unmarshal(raw, &data)
			out.Replicas = append(out.Replicas, data.Replica)
			if c.name != "whoami" {
				out.Answers = append(out.Answers, data.Answer)
			}
		}
	}
	return out
}

package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// postTransport is gqlgen's transport.POST with two costs taken out of the
// hottest path:
//
//   - A successful answer is written as {"data":…} around the bytes the
//     executor produced. transport.POST passes them through json.Marshal,
//     which re-validates and copies all of them (json.RawMessage) and took
//     about a seventh of the server's CPU on a page of notes. The executor's
//     output is already compact JSON, and answers with errors or
//     extensions still go through json.Marshal.
//   - The body is read once: speculate has it already, and hands it over in
//     the context.
//
// Everything else (content negotiation, status codes, the error messages)
// is transport.POST's, as of gqlgen v0.17.98.
type postTransport struct{}

var _ graphql.Transport = postTransport{}

const (
	contentJSON            = "application/json"
	contentGraphQLResponse = "application/graphql-response+json"
)

type bodyKey struct{}

// afterWrite is what to run once the answer is written: the direct writer
// lends its pooled buffer to the response rather than copying 14 KB, and
// takes it back here.
type afterWrite struct{ fn func() }

type afterWriteKey struct{}

// withBody hands a request body already read to the transport.
func withBody(ctx context.Context, body []byte) context.Context {
	return context.WithValue(ctx, bodyKey{}, body)
}

func (postTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return false
	}
	return r.Method == http.MethodPost && mediaType == contentJSON
}

func (postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r)
	w.Header().Set("Content-Type", contentType)
	start := graphql.Now()
	body, ok := ctx.Value(bodyKey{}).([]byte)
	if !ok {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			resp := exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("could not read request body: %+v", err)})
			writeResponse(w, resp)
			return
		}
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		gqlErr := gqlerror.Errorf("json request body could not be decoded: %+v body:%s", err, string(body))
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlErr}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	rc, opErr := exec.CreateOperationContext(ctx, &params)
	if opErr != nil {
		status := http.StatusOK
		if errcode.GetErrorKind(opErr) == errcode.KindProtocol {
			status = http.StatusUnprocessableEntity
			if contentType == contentGraphQLResponse {
				status = http.StatusBadRequest
			}
		}
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	aw := &afterWrite{}
	responses, ctx := exec.DispatchOperation(context.WithValue(ctx, afterWriteKey{}, aw), rc)
	writeResponse(w, responses(ctx))
	if aw.fn != nil {
		aw.fn()
	}
}

// responseContentType negotiates as transport.POST does with its defaults:
// application/json unless the client accepts only
// application/graphql-response+json.
func responseContentType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return contentJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", contentJSON:
			return contentJSON
		case contentGraphQLResponse:
			return contentGraphQLResponse
		}
	}
	return contentGraphQLResponse
}

// writeResponse writes a plain successful answer around its data, and any
// other through encoding/json, as transport.POST does.
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	if resp != nil && len(resp.Errors) == 0 && len(resp.Extensions) == 0 && resp.Label == "" &&
		resp.Path == nil && resp.HasNext == nil && len(resp.Data) > 0 {
		w.Header().Set("Content-Length", strconv.Itoa(len(`{"data":}`)+len(resp.Data)))
		_, _ = io.WriteString(w, `{"data":`)
		_, _ = w.Write(resp.Data)
		_, _ = io.WriteString(w, `}`)
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		panic(err)
	}
	_, _ = w.Write(b)
}

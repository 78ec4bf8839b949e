package workload_test

import (
	"net"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"
	. "github.com/onsi/ginkgo/v2"
)

// fakeServer speaks just enough of the PostgreSQL protocol for pgx to log
// in; onQuery decides what happens to each simple query (answer, error,
// hang up, or never answer), so that specs get the errors pgx really
// returns, wrapped the way pgx wraps them.
type fakeServer struct {
	ln      net.Listener
	onQuery func(be *pgproto3.Backend, conn net.Conn, sql string) bool // false: stop serving
	wg      sync.WaitGroup
}

func startFakeServer(onQuery func(be *pgproto3.Backend, conn net.Conn, sql string) bool) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		Fail("listen: " + err.Error())
	}
	s := &fakeServer{ln: ln, onQuery: onQuery}
	s.wg.Go(s.accept)
	DeferCleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *fakeServer) dsn() string {
	return "postgres://u:p@" + s.ln.Addr().String() + "/db?sslmode=disable&connect_timeout=5"
}

func (s *fakeServer) accept() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Go(func() { s.serve(conn) })
	}
}

func (s *fakeServer) serve(conn net.Conn) {
	defer conn.Close()
	be := pgproto3.NewBackend(conn, conn)
	msg, err := be.ReceiveStartupMessage()
	if err != nil {
		return
	}
	if _, ok := msg.(*pgproto3.StartupMessage); !ok {
		return // a cancel request: nothing to cancel
	}
	be.Send(&pgproto3.AuthenticationOk{})
	be.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: "17.0"})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if be.Flush() != nil {
		return
	}
	for {
		msg, err := be.Receive()
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			if !s.onQuery(be, conn, m.String) {
				return
			}
		case *pgproto3.Terminate:
			return
		}
	}
}

// answer completes a query with tag.
func answer(be *pgproto3.Backend, tag string, txStatus byte) bool {
	be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: txStatus})
	return be.Flush() == nil
}

// answerError fails a query with a server error.
func answerError(be *pgproto3.Backend, severity, code, message string) bool {
	be.Send(&pgproto3.ErrorResponse{Severity: severity, Code: code, Message: message})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'E'})
	return be.Flush() == nil
}

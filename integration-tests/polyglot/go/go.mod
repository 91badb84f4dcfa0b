// Example Go client of the VMPilot conversation store. The stubs are generated
// (by gen.sh) into ./gen/go/..., at the import path given by the contract's
// go_package option, hence this module path.
module github.com/vmpilot/conversation-store

go 1.26.0

require (
	google.golang.org/genproto/googleapis/api v0.0.0-20261104224025-d1e00e9f33ab
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261104224025-d1e00e9f33ab
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
)

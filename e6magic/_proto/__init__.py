"""Generated protobuf and gRPC stubs for protos/*.proto (regenerate with `python -m e6magic._proto.regenerate`)."""

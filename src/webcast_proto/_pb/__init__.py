"""Generated protobuf bindings of proto/webcast.proto (scripts/gen_proto.py). Do not edit."""

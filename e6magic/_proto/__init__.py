"""Generated protobuf and gRPC stubs for protos/*.proto (regenerate with `python -m e6magic._proto.regenerate`).

The stubs register into `POOL`, a descriptor pool of their own, not protobuf's default pool: the official
connector registers its own package-less `e6x_engine.proto` there with different bytes, and protobuf refuses
a second file of the same name, so the two could not be imported into one process. Message names never
travel on the wire (services, methods and field numbers do), so a private pool changes nothing the engine sees.
"""
from google.protobuf import descriptor_pool

POOL = descriptor_pool.DescriptorPool()

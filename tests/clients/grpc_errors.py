"""What a Python gRPC client reads from our services' errors.

The caller puts the generated Python modules (signpost.v1, google.rpc) on sys.path first.
"""


def bad_request_fields(error):
    """The fields named by the google.rpc.BadRequest details of a grpc.RpcError, in order, as the
    services send them in the grpc-status-details-bin trailer; [] when there is none."""
    from google.rpc import error_details_pb2, status_pb2
    details = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")
    fields = []
    for detail in status_pb2.Status.FromString(details).details if details else []:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            fields += [v.field for v in bad.field_violations]
    return fields

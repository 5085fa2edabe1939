using Grpc.Core;
using Tessera.Serving.Inference;

namespace Tessera.Serving.Grpc;

/// <summary>The gRPC status that speaks an HTTP status of the serving part (the REST path answers the same failures with these).</summary>
internal static class GrpcErrors
{
    public static StatusCode CodeOf(int httpStatus) => httpStatus switch
    {
        400 => StatusCode.InvalidArgument,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.NotFound,
        409 => StatusCode.FailedPrecondition,
        413 => StatusCode.ResourceExhausted,
        RequestFailure.ClientClosedRequest => StatusCode.Cancelled,
        501 => StatusCode.Unimplemented,
        502 or 503 => StatusCode.Unavailable,
        504 => StatusCode.DeadlineExceeded,
        _ => StatusCode.Internal,
    };

    public static RpcException From(RequestFailure failure) => new(new Status(CodeOf(failure.StatusCode), failure.Message));

    public static RpcException From(Protocol.ServingException e) => new(new Status(CodeOf(e.StatusCode), e.Message));
}

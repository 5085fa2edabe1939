using Grpc.Core;
using Tessera.Serving.Http;
using Tessera.Serving.Http2;

namespace Tessera.Serving.Grpc.Server;

/// <summary>A call answered with its status before any handler runs (no API key, an unknown method, an unsupported encoding); what the client still sends is read and dropped.</summary>
internal sealed class GrpcRefusedCall : GrpcServerCall
{
    public GrpcRefusedCall(Http2Stream stream, Http2FrameWriter writer, GrpcCallSetup setup, StatusCode code, string message)
        : base(stream, writer, setup)
    {
        _ = EndAsync(code, message);
    }

    protected override void OnMessage(RequestBuffer message) => message.Dispose();

    protected override void OnRequestEnd()
    {
    }
}

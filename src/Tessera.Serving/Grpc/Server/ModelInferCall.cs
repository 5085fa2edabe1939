using Grpc.Core;
using Tessera.Serving.Http;
using Tessera.Serving.Http2;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Grpc.Server;

/// <summary>
/// The unary ModelInfer call on the connection's own loop: its one message is copied from the transport's pipe
/// into a pooled block as DATA arrives, decoded with the raw contents left in the block (<see cref="RawInputParser"/>),
/// and run through <see cref="InferenceGrpcService.InferAsync(Wire.ModelInferRequest, DateTime, CancellationToken)"/>
/// from the loop that read its last frame (no thread-pool hop); the answer, with the output tensors' own bytes, and
/// its trailers go out in one write from wherever the inference finishes.
/// </summary>
internal sealed class ModelInferCall : GrpcServerCall
{
    private readonly InferenceGrpcService _service;
    private RequestBuffer? _message;
    private bool _running;

    public ModelInferCall(Http2Stream stream, Http2FrameWriter writer, GrpcCallSetup setup, InferenceGrpcService service)
        : base(stream, writer, setup)
    {
        _service = service;
        stream.Aborted.Token.Register(() => // on the connection's loop, as OnMessage and OnRequestEnd are
        {
            if (!_running) _message?.Dispose();
        });
    }

    protected override void OnMessage(RequestBuffer message)
    {
        if (_message is not null)
        {
            message.Dispose();
            throw ServingException.BadRequest("malformed gRPC request: the request has more than one message; ModelInfer takes one (ModelStreamInfer takes many)");
        }

        _message = message;
    }

    protected override void OnRequestEnd()
    {
        if (_message is null)
        {
            _ = EndAsync(StatusCode.InvalidArgument, "malformed gRPC request: the call has no request message");
            return;
        }

        var message = _message;
        _running = true;
        Run(() => RunAsync(message));
    }

    private async Task RunAsync(RequestBuffer message)
    {
        try
        {
            // The stream's own token: a passing deadline is the call's timeout inside InferAsync (counted as one), not a client leaving.
            var answer = await _service.InferAsync(RawInputParser.Parse(message), Deadline, Aborted).ConfigureAwait(false);
            await AnswerAsync(GrpcAnswerWriter.Segments(answer)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await FailAsync(e).ConfigureAwait(false);
        }
        finally
        {
            message.Dispose(); // the inputs were tensors over it: given back once the answer is written
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tessera.Serving.Http;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Grpc;

/// <summary>
/// The unary ModelInfer call served on Kestrel directly, ahead of Grpc.AspNetCore, which would buffer the whole
/// message, copy each raw_input_contents entry into a fresh array and serialize the answer into another buffer: the
/// message is read as it arrives into one pooled block (<see cref="GrpcMessageReader"/>) whose raw contents are the
/// input tensors, the call runs through the same <see cref="InferenceGrpcService.InferAsync(Wire.ModelInferRequest, DateTime, CancellationToken)"/>
/// as the bound method, and the answer goes to the response pipe with the outputs' own bytes
/// (<see cref="GrpcAnswerWriter"/>), then grpc-status in the trailers. A call this path does not take (a
/// grpc-encoding other than identity, another content type, not HTTP/2) passes on to Grpc.AspNetCore.
/// </summary>
internal sealed class ModelInferEndpoint
{
    public const string Path = "/inference.GRPCInferenceService/ModelInfer";

    private readonly InferenceGrpcService _service;
    private readonly FrontDoorAccess _access;
    private readonly RequestBufferPool _pool;
    private readonly long _maxMessageBytes;
    private readonly ILogger _logger;

    public ModelInferEndpoint(InferenceGrpcService service, FrontDoorAccess access, RequestBufferPool pool, long maxMessageBytes, ILogger logger)
    {
        _service = service;
        _access = access;
        _pool = pool;
        _maxMessageBytes = maxMessageBytes;
        _logger = logger;
    }

    /// <summary>Middleware: answers the calls it takes, passes everything else on.</summary>
    public Task InvokeAsync(HttpContext context, RequestDelegate next) => Takes(context.Request) ? CallAsync(context) : next(context);

    private static bool Takes(HttpRequest request) =>
        request.Path.Value == Path
        && HttpMethods.IsPost(request.Method)
        && HttpProtocol.IsHttp2(request.Protocol)
        && request.ContentType is "application/grpc" or "application/grpc+proto"
        && request.Headers["grpc-encoding"] is { Count: 0 } or ["identity"];

    private async Task CallAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var aborted = context.RequestAborted;
        Activity.Current?.SetTag("grpc.method", Path);
        response.ContentType = "application/grpc";
        RequestBuffer? message = null;
        try
        {
            if (_access.Refusal(Path, request.Headers.Authorization) is { } refusal)
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, refusal));
            }

            var deadline = GrpcTimeout.Deadline(request.Headers["grpc-timeout"], DateTime.UtcNow);
            message = await ReadAsync(request, deadline, aborted).ConfigureAwait(false);
            var answer = await _service.InferAsync(RawInputParser.Parse(message), deadline, aborted).ConfigureAwait(false);
            await GrpcAnswerWriter.WriteAsync(response.BodyWriter, answer, aborted).ConfigureAwait(false);
            End(response, StatusCode.OK, null, answered: true);
        }
        catch (Exception) when (aborted.IsCancellationRequested)
        {
            // The client went away (counted by InferAsync when it was running); nobody reads an answer.
        }
        catch (RpcException e)
        {
            End(response, e.StatusCode, e.Status.Detail, response.HasStarted);
        }
        catch (ServingException e)
        {
            End(response, GrpcErrors.CodeOf(e.StatusCode), e.Message, response.HasStarted);
        }
        catch (Exception e)
        {
            _logger.GrpcCallFailed(Path, e);
            End(response, StatusCode.Internal, $"internal error: {e.Message}", response.HasStarted);
        }
        finally
        {
            message?.Dispose(); // the inputs were tensors over it: given back once the answer is written
        }
    }

    /// <summary>The message, its reading bounded by the call's deadline too.</summary>
    private async Task<RequestBuffer> ReadAsync(HttpRequest request, DateTime deadline, CancellationToken aborted)
    {
        if (deadline == DateTime.MaxValue)
        {
            return await GrpcMessageReader.ReadAsync(request.BodyReader, _pool, _maxMessageBytes, aborted).ConfigureAwait(false);
        }

        using var late = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        late.CancelAfter(TimeSpan.FromTicks(Math.Max(deadline.Ticks - DateTime.UtcNow.Ticks, 0)));
        try
        {
            return await GrpcMessageReader.ReadAsync(request.BodyReader, _pool, _maxMessageBytes, late.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, "the call's deadline passed while its request was being received"));
        }
    }

    /// <summary>
    /// The call's status: in the trailers after an answer (<paramref name="answered"/>: a message was written, which
    /// may not be sent yet), else in the headers of a trailers-only answer.
    /// </summary>
    private static void End(HttpResponse response, StatusCode code, string? message, bool answered)
    {
        Activity.Current?.SetTag("grpc.status_code", (int)code);
        string status = ((int)code).ToString(CultureInfo.InvariantCulture);
        if (answered)
        {
            response.AppendTrailer("grpc-status", status);
            if (message is not null) response.AppendTrailer("grpc-message", GrpcStatusMessage.Encode(message));
            return;
        }

        response.Headers["grpc-status"] = status;
        if (message is not null) response.Headers["grpc-message"] = GrpcStatusMessage.Encode(message);
    }
}

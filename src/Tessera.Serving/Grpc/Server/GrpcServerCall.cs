using System.Buffers;
using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Tessera.Serving.Http;
using Tessera.Serving.Http2;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Grpc.Server;

/// <summary>
/// One gRPC call on a stream of <see cref="Http2Connection"/>: its request messages cut from the DATA as it arrives
/// (<see cref="GrpcMessageAssembler"/>), its deadline (grpc-timeout: DEADLINE_EXCEEDED when it passes first), its
/// span, and its end — exactly once, whoever comes first: the answer, a failure, the deadline.
/// </summary>
internal abstract class GrpcServerCall : IHttp2Call
{
    private readonly GrpcMessageAssembler _messages;
    private readonly List<RequestBuffer> _complete = [];
    private readonly CancellationTokenSource _cancelled;
    private readonly CancellationToken _cancelledToken;
    private readonly Activity? _activity;
    private readonly ILogger _logger;
    private bool _failed;

    protected GrpcServerCall(Http2Stream stream, Http2FrameWriter writer, GrpcCallSetup setup)
    {
        Stream = stream;
        Writer = writer;
        Path = setup.Path;
        _logger = setup.Logger;
        _messages = new GrpcMessageAssembler(setup.Pool, setup.MaxMessageBytes, setup.Gzip);
        _activity = setup.Activity;
        Deadline = setup.Deadline;
        _cancelled = CancellationTokenSource.CreateLinkedTokenSource(stream.Aborted.Token);
        _cancelledToken = _cancelled.Token;
        stream.Aborted.Token.Register(_messages.Dispose); // on the connection's loop, as every Append is
        if (Deadline != DateTime.MaxValue)
        {
            _cancelledToken.Register(() =>
            {
                if (!stream.Aborted.IsCancellationRequested) _ = EndAsync(StatusCode.DeadlineExceeded, "Deadline Exceeded");
            });
            _cancelled.CancelAfter(TimeSpan.FromTicks(Math.Max(Deadline.Ticks - DateTime.UtcNow.Ticks, 0)));
        }
    }

    public string Path { get; }

    public DateTime Deadline { get; }

    /// <summary>Cancelled when the client resets the stream, the connection closes or the deadline passes.</summary>
    public CancellationToken Cancelled => _cancelledToken;

    /// <summary>Cancelled when the client resets the stream or the connection closes (not by the deadline).</summary>
    protected CancellationToken Aborted => Stream.Aborted.Token;

    protected Http2Stream Stream { get; }

    protected Http2FrameWriter Writer { get; }

    /// <summary>Whether the client ended its side, so no more messages come.</summary>
    protected bool RequestEnded => Stream.RequestEnded;

    void IHttp2Call.OnData(ReadOnlySequence<byte> data)
    {
        if (_failed)
        {
            Stream.Consumed((int)data.Length);
            return;
        }

        try
        {
            if (CreditsOnArrival) Stream.Consumed((int)data.Length);
            _messages.Append(data, _complete);
            foreach (var message in _complete) OnMessage(message);
        }
        catch (ServingException e)
        {
            _failed = true;
            _ = EndAsync(GrpcErrors.CodeOf(e.StatusCode), e.Message);
        }
        finally
        {
            _complete.Clear();
        }
    }

    void IHttp2Call.OnRequestEnd()
    {
        if (_failed) return;
        if (_messages.InsideMessage)
        {
            _failed = true;
            _ = EndAsync(StatusCode.InvalidArgument, "malformed gRPC request: the request ends inside a message");
            return;
        }

        OnRequestEnd();
    }

    /// <summary>Whether the stream's window is given back as DATA arrives (calls that take one message) or as messages are read (streams).</summary>
    protected virtual bool CreditsOnArrival => true;

    /// <summary>A whole request message (the call owns it); throws a <see cref="ServingException"/> to refuse it.</summary>
    protected abstract void OnMessage(RequestBuffer message);

    protected abstract void OnRequestEnd();

    /// <summary>Starts the call's work with its span as the current activity, so the spans of that work are its children.</summary>
    protected void Run(Func<Task> work)
    {
        var previous = Activity.Current;
        Activity.Current = _activity;
        try
        {
            _ = work();
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    /// <summary>The unary answer: headers, the framed message and grpc-status 0, in one write.</summary>
    protected async Task AnswerAsync(IReadOnlyList<ReadOnlyMemory<byte>> message)
    {
        if (!Stream.TryEnd()) return;
        await Writer.WriteAsync(Stream, GrpcHeaderBlocks.Response, message, GrpcHeaderBlocks.Ok, Stream.Aborted.Token).ConfigureAwait(false);
        Finish(StatusCode.OK);
    }

    /// <summary>Ends the call with its status (trailers, or a trailers-only answer), unless it ended already; resets the stream if the client is still sending.</summary>
    public async Task EndAsync(StatusCode code, string? message, Metadata? trailers = null)
    {
        if (!Stream.TryEnd()) return;
        try
        {
            await Writer.WriteAsync(Stream, GrpcHeaderBlocks.Response, null, GrpcHeaderBlocks.Trailers(code, message, trailers), CancellationToken.None).ConfigureAwait(false);
            if (!Stream.RequestEnded) await Writer.ResetAsync(Stream, code == StatusCode.DeadlineExceeded ? Http2ErrorCode.Cancel : Http2ErrorCode.NoError).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException)
        {
            // The connection is gone; nobody reads the status.
        }

        Finish(code);
    }

    /// <summary>Ends the call for an exception out of its handler, as Grpc.AspNetCore maps them.</summary>
    protected Task FailAsync(Exception e)
    {
        switch (e)
        {
            case RpcException rpc:
                return EndAsync(rpc.StatusCode, rpc.Status.Detail, rpc.Trailers.Count > 0 ? rpc.Trailers : null);
            case ServingException serving:
                return EndAsync(GrpcErrors.CodeOf(serving.StatusCode), serving.Message);
            case OperationCanceledException when Cancelled.IsCancellationRequested:
                return EndAsync(Deadline <= DateTime.UtcNow ? StatusCode.DeadlineExceeded : StatusCode.Cancelled, "the call was cancelled");
            default:
                _logger.GrpcCallFailed(Path, e);
                return EndAsync(StatusCode.Unknown, "Exception was thrown by handler.");
        }
    }

    private void Finish(StatusCode code)
    {
        _cancelled.Dispose();
        if (_activity is not null)
        {
            _activity.SetTag("grpc.status_code", (int)code);
            _activity.Stop();
        }
    }
}

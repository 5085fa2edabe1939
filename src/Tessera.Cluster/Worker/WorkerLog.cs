using Microsoft.Extensions.Logging;
using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Worker;

/// <summary>The worker's log events, with fixed ids so that operators can filter on them.</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "listening on {Address} (cache {CacheDirectory}, threads {Threads}, memory budget {Budget})")]
    public static partial void Listening(ILogger logger, string address, string cacheDirectory, int threads, string budget);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "connection from {Remote} authenticated as {Role} {ClientId}")]
    public static partial void Authenticated(ILogger logger, string remote, ConnectionRole role, Guid clientId);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "refused connection from {Remote}: {Code}: {Reason}")]
    public static partial void Refused(ILogger logger, string remote, ClusterErrorCode code, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "connection from {Remote} closed")]
    public static partial void Closed(ILogger logger, string remote);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "closing connection from {Remote}: {Code}: {Reason}")]
    public static partial void ProtocolError(ILogger logger, string remote, ClusterErrorCode code, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "model {Hash} stored ({Bytes} bytes)")]
    public static partial void ModelStored(ILogger logger, string hash, long bytes);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "model {Hash} refused: {Code}: {Reason}")]
    public static partial void ModelRefused(ILogger logger, string hash, ClusterErrorCode code, string reason);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "model {Hash} loaded ({Bytes} bytes; {Used} bytes in use)")]
    public static partial void ModelLoaded(ILogger logger, string hash, long bytes, long used);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "request {RequestId} failed: {Code}: {Reason}")]
    public static partial void RequestFailed(ILogger logger, ulong requestId, ClusterErrorCode code, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "request {RequestId}: no connection from its coordinator {ClientId} to send the answer on")]
    public static partial void NoReplyConnection(ILogger logger, ulong requestId, Guid clientId);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "connected to peer worker {Address}")]
    public static partial void PeerConnected(ILogger logger, string address);

    [LoggerMessage(EventId = 12, Level = LogLevel.Error, Message = "unexpected error on connection from {Remote}")]
    public static partial void Unexpected(ILogger logger, string remote, Exception exception);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "joined coordinator {Coordinator} as {Address}")]
    public static partial void Joined(ILogger logger, string coordinator, string address);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "cannot join coordinator {Coordinator}: {Reason}")]
    public static partial void JoinFailed(ILogger logger, string coordinator, string reason);

    [LoggerMessage(EventId = 16, Level = LogLevel.Information, Message = "tensors from {Remote}: {Path}")]
    public static partial void TensorPath(ILogger logger, string remote, string path);

    [LoggerMessage(EventId = 15, Level = LogLevel.Debug, Message = "connection from {Remote} closed during the handshake (a TCP probe?)")]
    public static partial void ClosedInHandshake(ILogger logger, string remote);
}

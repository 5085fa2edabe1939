using Microsoft.Extensions.Logging;

namespace Tessera.Cluster.Coordinator;

/// <summary>The coordinator's log events, with fixed ids.</summary>
internal static partial class CoordinatorLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "connected to worker {Name} at {Address}")]
    public static partial void Connected(ILogger logger, string name, string address);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "worker {Name} at {Address} is down: {Reason}")]
    public static partial void WorkerDown(ILogger logger, string name, string address, string reason);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "shipped model {Hash} ({Bytes} bytes) to {Address}")]
    public static partial void Shipped(ILogger logger, string hash, long bytes, string address);

    [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "worker {Address} joined")]
    public static partial void Joined(ILogger logger, string address);

    [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "refused a join from {Remote}: {Reason}")]
    public static partial void JoinRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 107, Level = LogLevel.Information, Message = "worker {Name} at {Address} is up again")]
    public static partial void WorkerUp(ILogger logger, string name, string address);

    [LoggerMessage(EventId = 108, Level = LogLevel.Warning, Message = "worker at {Address} answers again but cannot take its models back: {Reason}")]
    public static partial void ReviveFailed(ILogger logger, string address, string reason);
}

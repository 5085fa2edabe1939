using Microsoft.Extensions.Logging;

namespace Tessera.Cluster.Membership;

/// <summary>Membership's log events, with fixed ids.</summary>
internal static partial class MembershipLog
{
    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "cannot resolve {Entry}: {Reason}; its workers stay as they were, tried again later")]
    public static partial void ResolveFailed(ILogger logger, string entry, string reason);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "worker at {Address} cannot be reached: {Reason}; tried again later")]
    public static partial void Unreachable(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 403, Level = LogLevel.Information, Message = "worker at {Address} left: its name no longer resolves to it")]
    public static partial void Left(ILogger logger, string address);
}

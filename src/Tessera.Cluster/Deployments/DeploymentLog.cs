using Microsoft.Extensions.Logging;

namespace Tessera.Cluster.Deployments;

/// <summary>A deployment's log events, with fixed ids.</summary>
internal static partial class DeploymentLog
{
    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "{Model}: a request failed on {Placement}, running it on another placement: {Reason}")]
    public static partial void FailingOver(ILogger logger, string model, string placement, string reason);
}

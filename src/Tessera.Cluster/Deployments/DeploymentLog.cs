using Microsoft.Extensions.Logging;

namespace Tessera.Cluster.Deployments;

/// <summary>A deployment's log events, with fixed ids.</summary>
internal static partial class DeploymentLog
{
    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "{Model}: a request failed on {Placement}, running it on another placement: {Reason}")]
    public static partial void FailingOver(ILogger logger, string model, string placement, string reason);

    [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "{Model}: placed again because {Reason}: {Placements}")]
    public static partial void Replaced(ILogger logger, string model, string reason, string placements);

    [LoggerMessage(EventId = 303, Level = LogLevel.Information, Message = "{Model}: {Reason}, but a plan over the {Workers} workers up is not estimated faster: kept")]
    public static partial void Kept(ILogger logger, string model, string reason, int workers);

    [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "{Model}: {Reason}")]
    public static partial void PlacementFailed(ILogger logger, string model, string reason);

    [LoggerMessage(EventId = 305, Level = LogLevel.Warning, Message = "{Model}: a worker went down while the model was placed, placing it again: {Reason}")]
    public static partial void PlacingAgain(ILogger logger, string model, string reason);
}

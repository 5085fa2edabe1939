using Microsoft.Extensions.Logging;

namespace Tessera.Serving.Http;

/// <summary>Structured log messages of the serving part, with fixed event ids.</summary>
internal static partial class ServingLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Loaded model {Model} version {Version}: {Replicas} replica(s), {Threads} thread(s) each, batching {Batching}, scheduling {Policy}")]
    public static partial void ModelLoaded(this ILogger logger, string model, string version, int replicas, int threads, string batching, string policy);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Model {Model} version {Version} runs on workers: {Routes}")]
    public static partial void ModelPlaced(this ILogger logger, string model, string version, string routes);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Serving {Models} model version(s) on {Address}")]
    public static partial void Listening(this ILogger logger, int models, string address);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Unloaded model {Model} version {Version} ({Outcome})")]
    public static partial void ModelUnloaded(this ILogger logger, string model, string version, string outcome);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Model {Model}: {Reason}")]
    public static partial void ModelLoadFailed(this ILogger logger, string model, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "API keys read again from {Path}: {Count} key(s)")]
    public static partial void ApiKeysReloaded(this ILogger logger, string path, int count);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "API key file {Path} changed but was not taken ({Reason}); the previous keys stay")]
    public static partial void ApiKeysNotReloaded(this ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Model {Model}: a batch of {Requests} requests failed ({Reason}); running them one by one")]
    public static partial void BatchFailed(this ILogger logger, string model, int requests, string reason);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Model {Model}: the outputs of a batch of {Requests} requests do not have the batch's rows on their first axis; running them one by one")]
    public static partial void BatchSplitFailed(this ILogger logger, string model, int requests);

    [LoggerMessage(EventId = 20, Level = LogLevel.Debug, Message = "Model {Model}: request rejected with {Status}: {Error}")]
    public static partial void RequestRejected(this ILogger logger, string model, int status, string error);

    [LoggerMessage(EventId = 21, Level = LogLevel.Debug, Message = "Model {Model}: client went away; its request was dropped")]
    public static partial void ClientGone(this ILogger logger, string model);

    [LoggerMessage(EventId = 30, Level = LogLevel.Error, Message = "Model {Model}: request failed inside the server")]
    public static partial void RequestFailed(this ILogger logger, string model, Exception exception);

    [LoggerMessage(EventId = 31, Level = LogLevel.Error, Message = "gRPC call {Method} failed inside the server")]
    public static partial void GrpcCallFailed(this ILogger logger, string method, Exception exception);
}

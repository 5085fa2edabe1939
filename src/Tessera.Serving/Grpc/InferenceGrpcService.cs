using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Http;
using Tessera.Serving.Inference;
using Tessera.Serving.Metrics;
using Tessera.Serving.Protocol;
using Tessera.Serving.Repository;

namespace Tessera.Serving.Grpc;

/// <summary>
/// inference.GRPCInferenceService: the KServe v2 gRPC API and Triton's extensions over the same models, checks,
/// queues and batching as the REST endpoints (<see cref="InferenceRunner"/>). Bound to its routes by
/// <see cref="InferenceServiceMethods"/>.
/// </summary>
internal sealed partial class InferenceGrpcService : GRPCInferenceService.GRPCInferenceServiceBase
{
    private readonly ModelRepository _models;
    private readonly RepositoryControl _control;
    private readonly ILogger _logger;

    public InferenceGrpcService(ModelRepository models, RepositoryControl control, RequestBufferPool buffers, ILogger logger)
    {
        _models = models;
        _control = control;
        _logger = logger;
        Received = new ReceivedBlocks(buffers);
    }

    /// <summary>Where ModelInferRequests are decoded and their raw contents kept until answered.</summary>
    public ReceivedBlocks Received { get; }

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = _models.Unready is null });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        bool ready = _models.TryFind(request.Name, VersionOf(request.Version)) is { Unready: null };
        return Task.FromResult(new ModelReadyResponse { Ready = ready });
    }

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context)
    {
        var response = new ServerMetadataResponse { Name = MetadataEndpoints.ServerName, Version = MetadataEndpoints.ServerVersion };
        response.Extensions.Add(MetadataEndpoints.Extensions);
        return Task.FromResult(response);
    }

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        var model = Find(request.Name, request.Version);
        var response = new ModelMetadataResponse { Name = model.Name, Platform = MetadataEndpoints.Platform };
        response.Versions.Add(_models.Versions(model.Name));
        foreach (var t in model.Signature.Inputs) response.Inputs.Add(Metadata(t));
        foreach (var t in model.Signature.Outputs) response.Outputs.Add(Metadata(t));
        return Task.FromResult(response);
    }

    public override Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        // The inputs are tensors over the request's blocks: they go back to the pool once the answer is sent.
        context.GetHttpContext().Response.RegisterForDispose(Received.Release(request));
        return InferAsync(request, context.Deadline, context.CancellationToken);
    }

    /// <summary>
    /// One ModelInfer call, for both ways it arrives (Grpc.AspNetCore's binding above, <see cref="ModelInferEndpoint"/>):
    /// the answer, or an <see cref="RpcException"/> with the failure's status; counted in the model's metrics.
    /// </summary>
    /// <param name="deadline">The call's deadline (<see cref="DateTime.MaxValue"/> for none): the timeout when the request's parameters give none.</param>
    public async Task<ModelInferResponse> InferAsync(ModelInferRequest request, DateTime deadline, CancellationToken aborted)
    {
        long start = Stopwatch.GetTimestamp();
        using var use = Enter(request.ModelName, request.ModelVersion);
        var model = use.Model;
        var outcome = RequestOutcome.Error;
        try
        {
            var response = await InferAsync(model, request, deadline, aborted).ConfigureAwait(false);
            outcome = RequestOutcome.Success;
            return response;
        }
        catch (Exception e)
        {
            var failure = RequestFailure.From(e, model.Name, _logger, aborted);
            outcome = failure.Outcome;
            throw GrpcErrors.From(failure);
        }
        finally
        {
            InferenceRunner.Record(model, outcome, start);
        }
    }

    public override Task<ModelConfigResponse> ModelConfig(ModelConfigRequest request, ServerCallContext context) =>
        Task.FromResult(new ModelConfigResponse { Config = ModelConfigMessage.From(Find(request.Name, request.Version)) });

    public override Task<ModelStatisticsResponse> ModelStatistics(ModelStatisticsRequest request, ServerCallContext context)
    {
        var response = new ModelStatisticsResponse();
        try
        {
            response.ModelStats.Add(StatisticsOf(_models, request.Name, request.Version).Select(ModelStatisticsMessage.From));
        }
        catch (ServingException e)
        {
            throw GrpcErrors.From(e);
        }

        return Task.FromResult(response);
    }

    /// <summary>The model versions a statistics request names: all, every version of one model, or one version (404 when unknown).</summary>
    internal static IEnumerable<ServedModel> StatisticsOf(ModelRepository models, string name, string version)
    {
        if (name.Length == 0)
        {
            return models.All;
        }

        if (version.Length > 0)
        {
            return [models.Find(name, version)];
        }

        models.Find(name, null);
        return models.All.Where(m => m.Name == name);
    }

    private static async Task<ModelInferResponse> InferAsync(ServedModel model, ModelInferRequest request, DateTime deadline, CancellationToken aborted)
    {
        var parsed = GrpcRequestReader.Read(request);
        var outputs = await InferenceRunner.RunAsync(model, parsed, DeadlineMicroseconds(deadline), aborted).ConfigureAwait(false);
        return GrpcResponseWriter.Write(model.Name, model.Version, parsed.Id, InferenceRunner.SelectOutputs(model, parsed, outputs), typed: request.RawInputContents.Count == 0);
    }

    /// <summary>The call's deadline as a timeout in µs (0 without one), so that a late request leaves the queue unrun.</summary>
    private static long DeadlineMicroseconds(DateTime deadline)
    {
        if (deadline == DateTime.MaxValue)
        {
            return 0;
        }

        double us = (deadline - DateTime.UtcNow).TotalMicroseconds;
        return (long)Math.Clamp(us, 1, InferRequestReader.MaxTimeoutMicroseconds);
    }

    private ServedModel Find(string name, string version)
    {
        try
        {
            return _models.Find(name, VersionOf(version));
        }
        catch (ServingException e)
        {
            throw GrpcErrors.From(e);
        }
    }

    private ModelUse Enter(string name, string version)
    {
        try
        {
            return _models.Enter(name, VersionOf(version));
        }
        catch (ServingException e)
        {
            throw GrpcErrors.From(e);
        }
    }

    private static string? VersionOf(string version) => version.Length == 0 ? null : version;

    private static ModelMetadataResponse.Types.TensorMetadata Metadata(Backends.TensorSignature t)
    {
        var m = new ModelMetadataResponse.Types.TensorMetadata { Name = t.Name, Datatype = WireDataTypes.Name(t.DataType) };
        m.Shape.Add(t.WireShape);
        return m;
    }
}

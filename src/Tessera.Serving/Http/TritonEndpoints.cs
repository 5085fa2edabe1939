using Microsoft.AspNetCore.Http;
using Tessera.Serving.Grpc;
using Tessera.Serving.Repository;

namespace Tessera.Serving.Http;

/// <summary>
/// The REST side of Triton's extensions, answering with the same messages as gRPC (as JSON): a model's
/// configuration (GET /v2/models/{name}[/versions/{version}]/config) and statistics (GET /v2/models[/{name}[/versions/{version}]]/stats).
/// </summary>
internal sealed class TritonEndpoints
{
    private readonly ModelRepository _models;
    private readonly MetadataEndpoints _metadata;

    public TritonEndpoints(ModelRepository models, MetadataEndpoints metadata)
    {
        _models = models;
        _metadata = metadata;
    }

    public Task ConfigAsync(HttpContext context) =>
        MetadataEndpoints.WriteJsonAsync(context, writer => ProtoJson.Write(writer, ModelConfigMessage.From(_metadata.Find(context))));

    public Task StatisticsAsync(HttpContext context)
    {
        var values = context.Request.RouteValues;
        string name = values.TryGetValue("name", out var n) ? (string)n! : "";
        string version = values.TryGetValue("version", out var v) ? (string)v! : "";
        var response = new Grpc.Wire.ModelStatisticsResponse();
        response.ModelStats.Add(InferenceGrpcService.StatisticsOf(_models, name, version).Select(ModelStatisticsMessage.From));
        return MetadataEndpoints.WriteJsonAsync(context, writer => ProtoJson.Write(writer, response));
    }
}

using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tessera.Serving.Backends;
using Tessera.Serving.Protocol;
using Tessera.Serving.Repository;

namespace Tessera.Serving.Http;

/// <summary>Health, server metadata and model metadata endpoints of the KServe v2 protocol.</summary>
internal sealed class MetadataEndpoints
{
    public const string ServerName = "tessera";
    public const string ServerVersion = "0.1.0";

    /// <summary>The platform name the protocol gives ONNX models.</summary>
    public const string Platform = "onnx_onnxv1";

    /// <summary>The protocol extensions this server speaks, on REST and gRPC alike.</summary>
    public static readonly string[] Extensions = ["binary_tensor_data", "model_configuration", "statistics", "model_repository", "model_repository(unload_dependents)"];

    private readonly ModelRepository _models;

    public MetadataEndpoints(ModelRepository models)
    {
        _models = models;
    }

    public static Task OkAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    public Task ServerMetadataAsync(HttpContext context) => WriteJsonAsync(context, writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("name"u8, ServerName);
        writer.WriteString("version"u8, ServerVersion);
        writer.WriteStartArray("extensions"u8);
        foreach (string e in Extensions) writer.WriteStringValue(e);
        writer.WriteEndArray();
        writer.WriteEndObject();
    });

    /// <summary>Ready while every model can be served; else 503 naming the first that cannot and why.</summary>
    public Task ServerReadyAsync(HttpContext context) =>
        _models.Unready is { } why ? ErrorResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, why) : OkAsync(context);

    public Task ModelReadyAsync(HttpContext context)
    {
        var model = Find(context); // unknown model or version: 404, which the protocol reads as "not ready"
        return model.Unready is { } why ? ErrorResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, why) : OkAsync(context);
    }

    public Task ModelMetadataAsync(HttpContext context)
    {
        var model = Find(context);
        return WriteJsonAsync(context, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("name"u8, model.Name);
            writer.WriteStartArray("versions"u8);
            foreach (string v in _models.Versions(model.Name)) writer.WriteStringValue(v);
            writer.WriteEndArray();
            writer.WriteString("platform"u8, Platform);
            WriteTensors(writer, "inputs", model.Signature.Inputs);
            WriteTensors(writer, "outputs", model.Signature.Outputs);
            writer.WriteEndObject();
        });
    }

    internal ServedModel Find(HttpContext context)
    {
        var (name, version) = NameAndVersion(context);
        return _models.Find(name, version);
    }

    /// <summary>The model version an inference request runs on (404 when not served), held until the use is disposed.</summary>
    internal ModelUse Enter(HttpContext context)
    {
        var (name, version) = NameAndVersion(context);
        return _models.Enter(name, version);
    }

    private static (string Name, string? Version) NameAndVersion(HttpContext context)
    {
        var values = context.Request.RouteValues;
        return ((string)values["name"]!, values.TryGetValue("version", out var v) ? (string?)v : null);
    }

    private static void WriteTensors(Utf8JsonWriter writer, string property, IReadOnlyList<TensorSignature> tensors)
    {
        writer.WriteStartArray(property);
        foreach (var t in tensors)
        {
            writer.WriteStartObject();
            writer.WriteString("name"u8, t.Name);
            writer.WriteString("datatype"u8, WireDataTypes.Name(t.DataType));
            writer.WriteStartArray("shape"u8);
            foreach (long d in t.WireShape) writer.WriteNumberValue(d);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    internal static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        using var buffer = new PooledBufferWriter(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}

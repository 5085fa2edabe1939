using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tessera.Serving.Protocol;
using Tessera.Serving.Repository;

namespace Tessera.Serving.Http;

/// <summary>
/// The REST side of Triton's model repository extension: POST /v2/repository/index ({"ready": bool}, optional)
/// and POST /v2/repository/models/{name}/load|unload ({"parameters": {...}}, optional), over the same
/// <see cref="RepositoryControl"/> as gRPC.
/// </summary>
internal sealed class RepositoryEndpoints
{
    private readonly RepositoryControl _control;
    private readonly RequestBufferPool _buffers;
    private readonly long _maxBodyBytes;

    public RepositoryEndpoints(RepositoryControl control, RequestBufferPool buffers, long maxBodyBytes)
    {
        _control = control;
        _buffers = buffers;
        _maxBodyBytes = maxBodyBytes;
    }

    public async Task IndexAsync(HttpContext context)
    {
        bool ready = false;
        using (var body = await ReadAsync(context).ConfigureAwait(false))
        {
            if (body is not null && body.RootElement.TryGetProperty("ready", out var value))
            {
                ready = value.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw ServingException.BadRequest("\"ready\" must be true or false"),
                };
            }
        }

        var entries = _control.Index("", ready);
        await MetadataEndpoints.WriteJsonAsync(context, writer =>
        {
            writer.WriteStartArray();
            foreach (var e in entries)
            {
                writer.WriteStartObject();
                writer.WriteString("name"u8, e.Name);
                if (e.Version.Length > 0) writer.WriteString("version"u8, e.Version);
                writer.WriteString("state"u8, e.State);
                writer.WriteString("reason"u8, e.Reason);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }).ConfigureAwait(false);
    }

    public async Task LoadAsync(HttpContext context)
    {
        var parameters = await ParametersAsync(context).ConfigureAwait(false);
        await _control.LoadAsync("", Name(context), parameters, context.RequestAborted).ConfigureAwait(false);
        await MetadataEndpoints.OkAsync(context).ConfigureAwait(false);
    }

    public async Task UnloadAsync(HttpContext context)
    {
        var parameters = await ParametersAsync(context).ConfigureAwait(false);
        await _control.UnloadAsync("", Name(context), parameters, context.RequestAborted).ConfigureAwait(false);
        await MetadataEndpoints.OkAsync(context).ConfigureAwait(false);
    }

    private static string Name(HttpContext context) => (string)context.Request.RouteValues["name"]!;

    /// <summary>The request's "parameters" as plain values (bool, long, double, string), as gRPC's are given to <see cref="RepositoryControl"/>.</summary>
    private async Task<Dictionary<string, object>> ParametersAsync(HttpContext context)
    {
        var parameters = new Dictionary<string, object>(StringComparer.Ordinal);
        using var body = await ReadAsync(context).ConfigureAwait(false);
        if (body is null || !body.RootElement.TryGetProperty("parameters", out var values))
        {
            return parameters;
        }

        if (values.ValueKind != JsonValueKind.Object) throw ServingException.BadRequest("\"parameters\" must be an object");
        foreach (var p in values.EnumerateObject())
        {
            parameters[p.Name] = p.Value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Number when p.Value.TryGetInt64(out long l) => l,
                JsonValueKind.Number => p.Value.GetDouble(),
                JsonValueKind.String => p.Value.GetString()!,
                _ => throw ServingException.BadRequest($"parameter \"{p.Name}\" must be a boolean, a number or a string"),
            };
        }

        return parameters;
    }

    /// <summary>The body as a JSON object, or null when it is empty.</summary>
    private async Task<JsonDocument?> ReadAsync(HttpContext context)
    {
        using var body = await RequestBody.ReadAsync(context.Request, _buffers, _maxBodyBytes, context.RequestAborted).ConfigureAwait(false);
        if (body.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return null;
        }

        try
        {
            var document = JsonDocument.Parse(body.Span.ToArray()); // a copy: the document keeps its memory, the pooled block goes back
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw ServingException.BadRequest("the request body must be a JSON object");
            }

            return document;
        }
        catch (JsonException e)
        {
            throw ServingException.BadRequest($"the request body is not valid JSON: {e.Message}");
        }
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tessera.Serving.Metrics;
using Tessera.Serving.Protocol;
using Tessera.Serving.Repository;

namespace Tessera.Serving.Http;

/// <summary>
/// The KServe v2 HTTP server on Kestrel: endpoint routing with plain request delegates (no MVC, no reflection-based
/// binding, so startup stays fast). Owns the model repository it serves.
/// </summary>
internal sealed class ServingServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ModelRepository _models;

    private ServingServer(WebApplication app, ModelRepository models)
    {
        _app = app;
        _models = models;
    }

    /// <summary>The addresses Kestrel bound (with the real port when the options asked for port 0).</summary>
    public IReadOnlyList<string> Addresses => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToArray();

    public ModelRepository Models => _models;

    public ILoggerFactory LoggerFactory => _app.Services.GetRequiredService<ILoggerFactory>();

    /// <summary>Loads the models (with the server's logger) and starts listening.</summary>
    public static async Task<ServingServer> StartAsync(ServerOptions options, Func<ILogger, ModelRepository> loadModels, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (options.ConsoleLog)
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
        }

        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.WebHost.UseKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null; // enforced by RequestBody, which answers with a JSON error
        });
        builder.WebHost.UseUrls(options.Url);
        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Tessera.Serving");
        var models = loadModels(logger);
        try
        {
            Map(app, models, options, logger);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            models.Dispose();
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var server = new ServingServer(app, models);
        logger.Listening(models.Count, string.Join(", ", server.Addresses));
        return server;
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        _models.Dispose();
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static void Map(WebApplication app, ModelRepository models, ServerOptions options, ILogger logger)
    {
        var metadata = new MetadataEndpoints(models);
        var infer = new InferEndpoint(metadata, options, logger);
        var metrics = new MetricsEndpoint(models);

        app.UseStatusCodePages(context =>
        {
            var http = context.HttpContext;
            string message = http.Response.StatusCode switch
            {
                404 => $"no endpoint at {http.Request.Path}",
                405 => $"{http.Request.Method} is not allowed on {http.Request.Path}",
                _ => $"status {http.Response.StatusCode}",
            };
            return ErrorResponse.WriteAsync(http, http.Response.StatusCode, message);
        });
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (ServingException e)
            {
                await ErrorResponse.WriteAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e)
            {
                await ErrorResponse.WriteAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
            }
        });

        app.MapGet("/v2/health/live", MetadataEndpoints.OkAsync);
        app.MapGet("/v2/health/ready", MetadataEndpoints.OkAsync);
        app.MapGet("/v2", metadata.ServerMetadataAsync);
        app.MapGet("/v2/models/{name}", metadata.ModelMetadataAsync);
        app.MapGet("/v2/models/{name}/versions/{version}", metadata.ModelMetadataAsync);
        app.MapGet("/v2/models/{name}/ready", metadata.ModelReadyAsync);
        app.MapGet("/v2/models/{name}/versions/{version}/ready", metadata.ModelReadyAsync);
        app.MapPost("/v2/models/{name}/infer", infer.InferAsync);
        app.MapPost("/v2/models/{name}/versions/{version}/infer", infer.InferAsync);
        app.MapGet("/metrics", metrics.ScrapeAsync);
    }
}

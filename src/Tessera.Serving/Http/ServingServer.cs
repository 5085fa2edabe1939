using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using BadHttpRequestException = Microsoft.AspNetCore.Http.BadHttpRequestException;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Grpc.AspNetCore.Server.Model;
using Grpc.HealthCheck;
using Grpc.Reflection;
using Grpc.Reflection.V1Alpha;
using OpenTelemetry.Trace;
using Tessera.Cluster.Telemetry;
using Tessera.Serving.Grpc;
using Tessera.Serving.Grpc.Server;
using Tessera.Serving.Metrics;
using Tessera.Serving.Protocol;
using Tessera.Serving.Repository;
using Tessera.Serving.Telemetry;

namespace Tessera.Serving.Http;

/// <summary>
/// The KServe v2 HTTP server on Kestrel: endpoint routing with plain request delegates (no MVC, no reflection-based
/// binding, so startup stays fast). Owns the model repository it serves.
/// </summary>
internal sealed class ServingServer : IAsyncDisposable
{
    /// <summary>Request bodies of the largest size the server keeps blocks for, to reuse (see <see cref="RequestBufferPool"/>).</summary>
    private const int BodyPoolBytes = 4;

    private readonly WebApplication _app;
    private readonly ModelRepository _models;
    private readonly Endpoints _endpoints;
    private readonly TelemetryExport? _telemetry;

    private ServingServer(WebApplication app, ModelRepository models, Endpoints endpoints, TelemetryExport? telemetry)
    {
        _app = app;
        _models = models;
        _endpoints = endpoints;
        _telemetry = telemetry;
    }

    /// <summary>The REST address (with the real port when the options asked for port 0).</summary>
    public IReadOnlyList<string> Addresses => [_endpoints.Http!.ToString()!];

    /// <summary>The gRPC address, or null when the server has no gRPC port.</summary>
    public string? GrpcAddress => _endpoints.Grpc?.ToString();

    public ModelRepository Models => _models;

    public ILoggerFactory LoggerFactory => _app.Services.GetRequiredService<ILoggerFactory>();

    /// <summary>Loads the models (with the server's logger) and starts listening.</summary>
    public static async Task<ServingServer> StartAsync(ServerOptions options, Func<ILogger, ModelRepository> loadModels, CancellationToken cancellationToken = default)
    {
        var telemetry = TelemetryExport.Start(options.Telemetry, [ServingTelemetry.SourceName, ClusterTelemetry.SourceName], [ServingMeter.Name], t => t.AddAspNetCoreInstrumentation());
        try
        {
            var server = await StartAsync(options, loadModels, telemetry, cancellationToken).ConfigureAwait(false);
            telemetry = null;
            return server;
        }
        finally
        {
            telemetry?.Dispose();
        }
    }

    private static async Task<ServingServer> StartAsync(ServerOptions options, Func<ILogger, ModelRepository> loadModels, TelemetryExport? telemetry, CancellationToken cancellationToken)
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
        var endpoints = new Endpoints();
        builder.WebHost.UseKestrel(k => (endpoints.Http, endpoints.Grpc) = KestrelSetup.Configure(k, options));
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>>(new TransportMemoryPoolFactory(2 * options.MaxBodyBytes));
        FrontDoorAccess? access = null; // made once the app's logger exists, before the models load
        builder.Services.AddSingleton(_ => access!);
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = (int)Math.Min(options.MaxBodyBytes, int.MaxValue);
            o.MaxSendMessageSize = null;
            o.Interceptors.Add<ApiKeyInterceptor>();
        });
        var health = new HealthServiceImpl();
        builder.Services.AddSingleton(health);
        builder.Services.AddSingleton(new ReflectionServiceImpl(Grpc.Wire.GRPCInferenceService.Descriptor, Health.Descriptor, ServerReflection.Descriptor));
        var buffers = new RequestBufferPool(BodyPoolBytes * Math.Max(options.MaxBodyBytes, RequestBufferPool.MinimumBlockBytes));
        ModelRepository? loaded = null; // the gRPC service is built when its routes are, after the models loaded
        RepositoryControl? control = null;
        builder.Services.AddSingleton(sp => new InferenceGrpcService(loaded!, control!, buffers, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Tessera.Serving")));
        builder.Services.AddSingleton<InferenceGrpcEndpoint>();
        builder.Services.AddSingleton<IServiceMethodProvider<InferenceGrpcEndpoint>, InferenceServiceMethods>();
        ILogger? logger = null;
        builder.Services.AddSingleton(sp => new GrpcConnectionHandler(() => OwnGrpcDispatcher(sp, health, access!, buffers, options, logger!), KestrelSetup.Http2Limits(options)));
        var app = builder.Build();
        logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Tessera.Serving");
        ModelRepository models;
        try
        {
            access = new FrontDoorAccess(options.ApiKeyFile is { } keyFile ? ApiKeys.Load(keyFile, logger) : null, options.OpenHealth);
            models = loadModels(logger);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        loaded = models;
        control = new RepositoryControl(models, options.RepositoryControl);
        try
        {
            Map(app, models, control, buffers, access, options, logger);
            app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => health.SetStatus("", HealthCheckResponse.Types.ServingStatus.NotServing));
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            health.SetStatus("", HealthCheckResponse.Types.ServingStatus.Serving);
            health.SetStatus(Grpc.Wire.GRPCInferenceService.Descriptor.FullName, HealthCheckResponse.Types.ServingStatus.Serving);
        }
        catch
        {
            models.Dispose();
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var server = new ServingServer(app, models, endpoints, telemetry);
        logger.Listening(models.Count, string.Join(", ", server.Addresses));
        return server;
    }

    /// <summary>The gRPC port's own HTTP/2 server, with every method of the inference, health and reflection services bound.</summary>
    private static GrpcDispatcher OwnGrpcDispatcher(IServiceProvider services, HealthServiceImpl health, FrontDoorAccess access, RequestBufferPool buffers, ServerOptions options, ILogger logger)
    {
        var inference = services.GetRequiredService<InferenceGrpcService>();
        var methods = new GrpcMethodTable(inference.Received);
        Grpc.Wire.GRPCInferenceService.BindService(methods, inference);
        Health.BindService(methods, health);
        ServerReflection.BindService(methods, services.GetRequiredService<ReflectionServiceImpl>());
        return new GrpcDispatcher(methods, inference, access, buffers, options.MaxBodyBytes, logger);
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        _models.Dispose();
        await _app.DisposeAsync().ConfigureAwait(false);
        // Last: the spans of the requests that finished during the stop are flushed too.
        _telemetry?.Dispose();
    }

    private static void Map(WebApplication app, ModelRepository models, RepositoryControl control, RequestBufferPool buffers, FrontDoorAccess access, ServerOptions options, ILogger logger)
    {
        var metadata = new MetadataEndpoints(models);
        var infer = new InferEndpoint(metadata, options, buffers, logger);
        var metrics = new MetricsEndpoint(models);
        var triton = new TritonEndpoints(models, metadata);
        var repository = new RepositoryEndpoints(control, buffers, options.MaxBodyBytes);

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
        app.Use(access.GuardAsync);
        if (options is { GrpcUrl: not null, GrpcServer: GrpcServerKind.AspNetCore })
        {
            var unary = new ModelInferEndpoint(app.Services.GetRequiredService<InferenceGrpcService>(), access, buffers, options.MaxBodyBytes, logger);
            app.Use(unary.InvokeAsync);
        }

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
        app.MapGet("/v2/health/ready", metadata.ServerReadyAsync);
        app.MapGet("/v2", metadata.ServerMetadataAsync);
        app.MapGet("/v2/models/{name}", metadata.ModelMetadataAsync);
        app.MapGet("/v2/models/{name}/versions/{version}", metadata.ModelMetadataAsync);
        app.MapGet("/v2/models/{name}/ready", metadata.ModelReadyAsync);
        app.MapGet("/v2/models/{name}/versions/{version}/ready", metadata.ModelReadyAsync);
        app.MapPost("/v2/models/{name}/infer", infer.InferAsync);
        app.MapPost("/v2/models/{name}/versions/{version}/infer", infer.InferAsync);
        app.MapGet("/v2/models/{name}/config", triton.ConfigAsync);
        app.MapGet("/v2/models/{name}/versions/{version}/config", triton.ConfigAsync);
        app.MapGet("/v2/models/stats", triton.StatisticsAsync);
        app.MapGet("/v2/models/{name}/stats", triton.StatisticsAsync);
        app.MapGet("/v2/models/{name}/versions/{version}/stats", triton.StatisticsAsync);
        app.MapPost("/v2/repository/index", repository.IndexAsync);
        app.MapPost("/v2/repository/models/{name}/load", repository.LoadAsync);
        app.MapPost("/v2/repository/models/{name}/unload", repository.UnloadAsync);
        app.MapGet("/metrics", metrics.ScrapeAsync);
        app.MapGet("/dashboard", DashboardEndpoint.ServeAsync);
        if (options is { GrpcUrl: not null, GrpcServer: GrpcServerKind.AspNetCore })
        {
            app.MapGrpcService<InferenceGrpcEndpoint>();
            app.MapGrpcService<HealthServiceImpl>();
            app.MapGrpcService<ReflectionServiceImpl>();
        }
    }

    /// <summary>The endpoints Kestrel binds, filled in when its options are built.</summary>
    private sealed class Endpoints
    {
        public ListenOptions? Http { get; set; }

        public ListenOptions? Grpc { get; set; }
    }
}

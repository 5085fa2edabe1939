using System.CommandLine;
using System.Globalization;
using Tessera.Cli.Common;
using Tessera.Cluster.Telemetry;
using Tessera.Serving.Http;
using Tessera.Serving.Repository;
using Tessera.Serving.Scheduling;

namespace Tessera.Cli.Commands;

/// <summary>`tessera serve`: the KServe v2 inference API over HTTP for one model or a model repository.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "serve this .onnx model (as version 1)" };
        var repository = new Option<string>("--repository") { Description = "serve every model in this folder: <model>/<version>/model.onnx and <model>/config.json" };
        var name = new Option<string>("--name") { Description = "the model's name with --model (default: the file name without extension)" };
        var http = new Option<string>("--http") { Description = "HOST:PORT to listen on (port 0: any free port)", DefaultValueFactory = _ => "127.0.0.1:8000" };
        var grpc = new Option<string?>("--grpc") { Description = "HOST:PORT to serve the KServe v2 gRPC API on as well (inference.GRPCInferenceService; port 0: any free port)" };
        var threads = new Option<int>("--threads") { Description = "intra-op threads per replica (0 = one per core)", DefaultValueFactory = _ => 1 };
        var replicas = new Option<int>("--replicas") { Description = "in-process replicas (sessions) per model", DefaultValueFactory = _ => 1 };
        var maxBatch = new Option<int>("--max-batch-size") { Description = "dynamic batching: most rows per batch (0 = off)", DefaultValueFactory = _ => 0 };
        var delay = new Option<long>("--max-queue-delay-us") { Description = "dynamic batching: longest wait for a batch to fill, in µs", DefaultValueFactory = _ => 0 };
        var preferred = new Option<string>("--preferred-batch-sizes") { Description = "dynamic batching: sizes to dispatch at once, e.g. 4,8" };
        var scheduling = new Option<string>("--scheduling") { Description = "dynamic (least work by measured speed) or round_robin", DefaultValueFactory = _ => "dynamic" };
        var maxQueue = new Option<int>("--max-queue") { Description = "queued requests per model before answering 503", DefaultValueFactory = _ => 1024 };
        var timeout = new Option<double>("--timeout-ms") { Description = "default request timeout in ms (0 = none)", DefaultValueFactory = _ => 0 };
        var maxBody = new Option<int>("--max-body-mb") { Description = "largest request body in MiB", DefaultValueFactory = _ => 64 };
        var workers = new Option<int>("--workers") { Description = "run the models on N local worker processes started for the server (0 = in this process)", DefaultValueFactory = _ => 0 };
        var strategy = new Option<string?>("--strategy") { Description = "with --workers, --cluster or --join-listen: how a model uses its workers: data (a replica per worker), pipeline, tensor, auto (default data)" };
        strategy.AcceptOnlyFromAmong("data", "pipeline", "tensor", "auto");
        var plan = new Option<string?>("--plan") { Description = "with --model and --cluster: serve this plan.json from `tessera plan` on running workers" };
        var cluster = new Option<string?>("--cluster") { Description = "cluster file whose nodes[].address (HOST:PORT or dns:NAME:PORT) are the workers: the models placed by --strategy, or by --plan" };
        var joinListen = new Option<string?>("--join-listen") { Description = "HOST:PORT to accept workers at (`tessera worker --join HOST:PORT`); they get work without a restart" };
        var grace = new Option<double>("--grace") { Description = "on workers: seconds a worker may be down before its models are placed again without it (requests wait for a placement meanwhile)", DefaultValueFactory = _ => 5 };
        var control = new Option<bool>("--repository-control") { Description = "with --repository: let clients load, reload and unload its models (Triton's model repository extension)" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "serve HTTPS, and gRPC over TLS, with this certificate (PEM)" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "with --tls-cert: its private key (PEM)" };
        var apiKeyFile = new Option<string?>("--api-key-file") { Description = "require Authorization: Bearer KEY with one of this file's keys (one per line; read again when it changes)" };
        var openHealth = new Option<bool>("--open-health") { Description = "with --api-key-file: health checks answer without a key" };
        var maxHeader = new Option<int>("--max-header-kb") { Description = "largest request headers in KiB (431 above)", DefaultValueFactory = _ => 32 };
        var maxStreams = new Option<int>("--max-streams") { Description = "concurrent HTTP/2 streams (gRPC calls) per connection", DefaultValueFactory = _ => 100 };
        var grpcServer = new Option<string>("--grpc-server") { Description = "what serves --grpc: own (Tessera's HTTP/2 server) or aspnetcore (Kestrel's HTTP/2 with Grpc.AspNetCore)", DefaultValueFactory = _ => "own" };
        grpcServer.AcceptOnlyFromAmong("own", "aspnetcore");
        var otlp = new Option<string?>("--otlp-endpoint") { Description = $"export traces and metrics over OTLP to this URL, e.g. http://127.0.0.1:4317 (else ${TelemetryOptions.EndpointVariable}; neither: off); local workers export there too" };
        var tokenFile = new Option<string?>("--token-file") { Description = $"with --cluster or --join-listen: file holding the shared cluster token (else ${WorkerCommand.TokenVariable})" };

        var command = new Command("serve", "Serve models over HTTP with the KServe v2 inference protocol")
        {
            model, repository, name, http, grpc, threads, replicas, maxBatch, delay, preferred, scheduling, maxQueue, timeout, maxBody,
            workers, strategy, plan, cluster, tokenFile, grace, joinListen, control, tlsCert, tlsKey, apiKeyFile, openHealth, maxHeader, maxStreams, grpcServer, otlp,
        };
        var tls = new TlsOptions("--cluster-tls");
        foreach (var option in tls.All) command.Options.Add(option);
        var wire = new WireDtypeOption();
        command.Options.Add(wire.Option);
        command.SetAction(parse =>
        {
            string? modelPath = parse.GetValue(model);
            string? repositoryDir = parse.GetValue(repository);
            if ((modelPath is null) == (repositoryDir is null))
            {
                throw new CliException("give either --model or --repository");
            }

            if (repositoryDir is not null && parse.GetValue(name) is not null)
            {
                throw new CliException("--name goes with --model; a repository's models are named by their folders");
            }

            if (parse.GetValue(control) && repositoryDir is null)
            {
                throw new CliException("--repository-control goes with --repository: models are loaded from its folders");
            }

            if (parse.GetValue(maxBody) < 1) throw new CliException("--max-body-mb must be 1 or more");
            if (!(parse.GetValue(grace) >= 0)) throw new CliException("--grace must be 0 or more seconds");
            if (parse.GetValue(maxHeader) is < 1 or > 1024) throw new CliException("--max-header-kb must lie in [1, 1024]");
            if (parse.GetValue(maxStreams) < 1) throw new CliException("--max-streams must be 1 or more");
            if (parse.GetValue(openHealth) && parse.GetValue(apiKeyFile) is null) throw new CliException("--open-health goes with --api-key-file");
            var placement = new ServePlacement(parse.GetValue(workers), parse.GetValue(strategy), parse.GetValue(plan), parse.GetValue(cluster), parse.GetValue(tokenFile), tls.Read(parse))
            {
                Grace = TimeSpan.FromSeconds(parse.GetValue(grace)),
                Wire = wire.Read(parse),
                JoinListen = parse.GetValue(joinListen),
                OtlpEndpoint = parse.GetValue(otlp),
            };
            placement.Validate(modelPath);
            ModelConfig defaults;
            try
            {
                defaults = new ModelConfig
                {
                    Replicas = parse.GetValue(replicas),
                    Threads = parse.GetValue(threads),
                    Scheduler = new SchedulerOptions
                    {
                        MaxBatchSize = parse.GetValue(maxBatch),
                        MaxQueueDelayMicroseconds = parse.GetValue(delay),
                        PreferredBatchSizes = ParseSizes(parse.GetValue(preferred)),
                        Policy = ModelConfig.ParsePolicy(parse.GetValue(scheduling)),
                        MaxQueueSize = parse.GetValue(maxQueue),
                        DefaultTimeoutMicroseconds = (long)Math.Ceiling(parse.GetValue(timeout) * 1000),
                    },
                };
                defaults.Validate();
            }
            catch (ArgumentException e)
            {
                throw new CliException(OptionNames(e.Message));
            }

            var options = new ServerOptions
            {
                Url = ToUrl(parse.GetValue(http)!, "--http"),
                GrpcUrl = parse.GetValue(grpc) is { } grpcAddress ? ToUrl(grpcAddress, "--grpc") : null,
                MaxBodyBytes = (long)parse.GetValue(maxBody) << 20,
                RepositoryControl = parse.GetValue(control),
                Certificate = FrontDoorCertificate(parse.GetValue(tlsCert), parse.GetValue(tlsKey)),
                ApiKeyFile = parse.GetValue(apiKeyFile),
                OpenHealth = parse.GetValue(openHealth),
                MaxHeaderBytes = parse.GetValue(maxHeader) << 10,
                MaxStreamsPerConnection = parse.GetValue(maxStreams),
                GrpcServer = parse.GetValue(grpcServer) == "aspnetcore" ? GrpcServerKind.AspNetCore : GrpcServerKind.Own,
                Telemetry = Telemetry(parse.GetValue(otlp), "tessera-serve"),
                ConsoleLog = true,
            };
            return Serve(options, modelPath, parse.GetValue(name), repositoryDir, defaults, placement);
        });
        return command;
    }

    private static int Serve(ServerOptions options, string? modelPath, string? name, string? repositoryDir, ModelConfig defaults, ServePlacement placement)
    {
        var cluster = placement.Start(defaults.Threads);
        try
        {
            return Serve(options, modelPath, name ?? Path.GetFileNameWithoutExtension(modelPath), repositoryDir, defaults, placement, cluster);
        }
        finally
        {
            // After the server: its models stop using the workers first; local workers are stopped here.
            cluster?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static int Serve(ServerOptions options, string? modelPath, string? name, string? repositoryDir, ModelConfig defaults, ServePlacement placement, ServeOnCluster? cluster)
    {
        var server = ServingServer.StartAsync(options, logger =>
        {
            if (repositoryDir is not null)
            {
                return ModelRepository.LoadDirectory(repositoryDir, defaults, logger, cluster?.Cluster);
            }

            if (placement.Plan is not null)
            {
                return cluster!.LoadPlan(logger, name!, modelPath!, placement.Plan, placement.ClusterFile!, defaults);
            }

            var models = new ModelRepository(logger, cluster?.Cluster);
            try
            {
                models.AddFile(name!, 1, modelPath!, defaults);
            }
            catch
            {
                models.Dispose();
                throw;
            }

            return models;
        }).GetAwaiter().GetResult();
        cluster?.Listening();

        // Scripts and tests wait for this line (it carries the real port when --http asked for port 0).
        Console.WriteLine($"tessera serve: listening on {string.Join(", ", server.Addresses)}{(server.GrpcAddress is { } g ? $", gRPC on {g}" : "")}");
        server.WaitForShutdownAsync().GetAwaiter().GetResult();
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    /// <summary>Speaks of the command's options where the shared validation names config keys.</summary>
    private static string OptionNames(string message)
    {
        (string Key, string Option)[] names =
        [
            ("preferred_batch_sizes", "--preferred-batch-sizes"), ("max_batch_size", "--max-batch-size"),
            ("max_queue_delay_us", "--max-queue-delay-us"), ("max_queue_size", "--max-queue"), ("replicas", "--replicas"),
            ("threads", "--threads"), ("default_timeout_us", "--timeout-ms"),
        ];
        foreach (var (key, option) in names)
        {
            message = message.Replace(key, option, StringComparison.Ordinal);
        }

        return message;
    }

    private static System.Security.Cryptography.X509Certificates.X509Certificate2? FrontDoorCertificate(string? certificate, string? key)
    {
        if (certificate is null)
        {
            return key is null ? null : throw new CliException("--tls-key goes with --tls-cert");
        }

        try
        {
            return ServerCertificate.Load(certificate, key ?? throw new CliException("--tls-cert needs --tls-key, the certificate's private key"));
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
    }

    /// <summary>The telemetry options of a command with --otlp-endpoint; a bad URL is a one-line error.</summary>
    public static TelemetryOptions Telemetry(string? endpoint, string serviceName, string? instanceId = null)
    {
        try
        {
            return TelemetryOptions.Resolve(endpoint, serviceName, instanceId);
        }
        catch (ArgumentException e)
        {
            throw new CliException((endpoint is null ? TelemetryOptions.EndpointVariable : "--otlp-endpoint") + ": " + e.Message);
        }
    }

    private static string ToUrl(string hostPort, string option)
    {
        try
        {
            Tessera.Serving.Http.ListenAddress.Parse(hostPort);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"{option} {e.Message}");
        }

        return hostPort.Contains("://", StringComparison.Ordinal) ? hostPort : "http://" + hostPort;
    }

    private static int[] ParseSizes(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        return text.Split(',', StringSplitOptions.TrimEntries).Select(s =>
            int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : throw new CliException($"--preferred-batch-sizes: '{s}' is not a batch size")).ToArray();
    }
}

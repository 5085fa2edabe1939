using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tessera.Serving.Http;

namespace Tessera.Serving.Grpc.Server;

/// <summary>What <see cref="GrpcDispatcher"/> hands every call it starts.</summary>
/// <param name="Path">The method's path, e.g. /inference.GRPCInferenceService/ModelInfer.</param>
/// <param name="Gzip">The call's grpc-encoding is gzip: compressed messages are inflated.</param>
/// <param name="Deadline">From grpc-timeout; <see cref="DateTime.MaxValue"/> for none.</param>
/// <param name="Activity">The call's server span, or null when nobody listens.</param>
internal sealed record GrpcCallSetup(string Path, RequestBufferPool Pool, long MaxMessageBytes, bool Gzip, DateTime Deadline, Activity? Activity, ILogger Logger);

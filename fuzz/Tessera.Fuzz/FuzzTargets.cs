using Tessera.Fuzz.Targets;

namespace Tessera.Fuzz;

/// <summary>Every parser of untrusted bytes, by the name `fuzz/run.sh TARGET` takes.</summary>
internal static class FuzzTargets
{
    public static readonly string[] Names = ["rest", "grpc", "http2", "frames", "handshake", "messages", "onnx", "npy", "tensorproto", "plan", "parquet", "sharedmemory"];

    /// <summary>A new instance of the target (the handshake target owns a listening socket: dispose it).</summary>
    public static FuzzTarget Create(string name) => name switch
    {
        "rest" => new RestRequestTarget(),
        "grpc" => new GrpcRequestTarget(),
        "http2" => new Http2ConnectionTarget(),
        "frames" => new FrameStreamTarget(),
        "handshake" => new HandshakeTarget(),
        "messages" => new ClusterMessagesTarget(),
        "onnx" => new OnnxModelTarget(),
        "npy" => new NpyTarget(),
        "tensorproto" => new TensorProtoTarget(),
        "plan" => new PlanJsonTarget(),
        "parquet" => new ParquetDatasetTarget(),
        "sharedmemory" => new SharedMemoryTarget(),
        _ => throw new ArgumentException($"unknown fuzz target '{name}' (one of {string.Join(", ", Names)})"),
    };
}

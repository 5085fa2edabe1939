namespace Tessera.Cluster.Transport;

/// <summary>
/// Bytes of tensor data this process has sent to any peer: the data of TENSOR frames (as sent: narrowed by a wire data
/// type, over TCP or through a shared-memory ring) and COLLECTIVE blocks, not their headers. A worker reports the sum
/// in its info (READY/PONG), so a coordinator can see what its requests cost the network.
/// </summary>
public static class WireCounters
{
    private static long s_tensorBytesSent;

    public static long TensorBytesSent => Interlocked.Read(ref s_tensorBytesSent);

    internal static void Sent(long bytes) => Interlocked.Add(ref s_tensorBytesSent, bytes);
}

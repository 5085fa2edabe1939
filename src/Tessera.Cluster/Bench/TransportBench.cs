using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Tensors;

namespace Tessera.Cluster.Bench;

/// <summary>
/// Measures the transport alone over real loopback TCP: two authenticated <see cref="ClusterConnection"/>s in this
/// process, tensor frames written from tensor storage and read into recycled tensor storage, as a worker does; with
/// <c>sharedMemory</c> the two connections share memory as processes on one host do (the control frames still
/// cross TCP), without it every byte crosses the socket.
/// </summary>
public static class TransportBench
{
    /// <param name="TensorPath">How the tensors travelled (the connection's <see cref="ClusterConnection.TensorPath"/>).</param>
    /// <param name="CpuSecondsPerGigabyte">This process's CPU time (writer and reader both) per 10^9 bytes moved in the throughput test: steadier than the rate on a loaded machine.</param>
    public sealed record Result(double ThroughputBytesPerSecond, double HopMicroseconds, long ThroughputBytes, int LatencyBytes, int Iterations, string TensorPath, double CpuSecondsPerGigabyte);

    public static async Task<Result> RunAsync(long throughputBytes, int latencyBytes, int iterations, TimeSpan duration, bool sharedMemory)
    {
        var token = new ClusterToken(ClusterToken.NewSecret());
        var limits = TransportLimits.Default with
        {
            MaxTensorBytes = Math.Max(throughputBytes, 1L << 30),
            // The ring size processes get (TESSERA_SHARED_MEMORY, 32 MiB by default): a few 4 MiB tensors in flight.
            SharedMemoryBytes = sharedMemory ? TransportLimits.Default.SharedMemoryBytes : 0,
        };
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        // The receiving side recycles tensor storage as a worker does (its tensors are done with once sent on).
        var pool = new TensorPool();
        var accept = Task.Run(async () => await ClusterConnection.AcceptAsync(
            await listener.AcceptAsync().ConfigureAwait(false), token, () => new WorkerInfo("bench", 1, 0, 0, 0, 0, HostId: HostIdentity.BootId), limits, default, pool).ConfigureAwait(false));
        await using var client = await ClusterConnection.ConnectAsync(ClusterAddress.Format(listener.LocalEndPoint!), token, ConnectionRole.Coordinator, Guid.NewGuid(), limits, default).ConfigureAwait(false);
        await using var server = await accept.ConfigureAwait(false);

        // One round trip settles the shared-memory offer: each side's reader handles it before the frame behind it.
        await client.Writer.SendAsync(FrameType.Ping, 0, null, default).ConfigureAwait(false);
        await server.Reader.ReadAsync(TimeSpan.FromSeconds(30), default).ConfigureAwait(false);
        await server.Writer.SendAsync(FrameType.Pong, 0, null, default).ConfigureAwait(false);
        await client.Reader.ReadAsync(TimeSpan.FromSeconds(30), default).ConfigureAwait(false);

        // Throughput: one direction, the receiver reading every tensor into fresh storage.
        var big = Tensor.AllocateZeroed(DataType.Float32, [(int)(throughputBytes / 4)]);
        var tensors = new KeyValuePair<string, Tensor>[] { new("t", big) };
        var payload = new WireWriter().U16(1).Written;
        int sent = 0;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var receiver = Task.Run(async () =>
        {
            int received = 0;
            while (await server.Reader.ReadAsync(TimeSpan.FromSeconds(30), default).ConfigureAwait(false) is { } f)
            {
                if (f.Type == FrameType.Tensor)
                {
                    received++;
                    pool.Return(f.Tensor!);
                }

                if (f.Type == FrameType.Ping) break;
            }

            return received;
        });
        for (; sent < iterations || clock.Elapsed < duration; sent++)
        {
            await client.Writer.SendAsync(FrameType.Result, (ulong)sent, payload, tensors, default).ConfigureAwait(false);
            if (clock.Elapsed > duration * 4) break;
        }

        await client.Writer.SendAsync(FrameType.Ping, 0, null, default).ConfigureAwait(false);
        int got = await receiver.ConfigureAwait(false);
        double seconds = clock.Elapsed.TotalSeconds;
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        double throughput = got * (double)big.ByteLength / seconds;
        double cpuPerGigabyte = cpuSeconds / (got * (double)big.ByteLength / 1e9);

        // Latency: ping-pong of a small tensor; a hop is half a round trip.
        var small = new KeyValuePair<string, Tensor>[] { new("t", Tensor.AllocateZeroed(DataType.Float32, [latencyBytes / 4])) };
        var echo = Task.Run(async () =>
        {
            while (await server.Reader.ReadAsync(TimeSpan.FromSeconds(30), default).ConfigureAwait(false) is { } f)
            {
                if (f.Type == FrameType.Ping) break;
                if (f.Type == FrameType.Tensor)
                {
                    await server.Writer.SendAsync(FrameType.Result, f.RequestId, payload, [new("t", f.Tensor!)], default).ConfigureAwait(false);
                    pool.Return(f.Tensor!);
                }
            }
        });
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        for (int i = 0; i < 10_000 && (i < 200 || total.Elapsed < duration); i++)
        {
            long start = Stopwatch.GetTimestamp();
            await client.Writer.SendAsync(FrameType.Result, (ulong)i, payload, small, default).ConfigureAwait(false);
            await client.Reader.ReadAsync(TimeSpan.FromSeconds(30), default).ConfigureAwait(false);
            await client.Reader.ReadAsync(TimeSpan.FromSeconds(30), default).ConfigureAwait(false);
            if (i >= 20) samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }

        await client.Writer.SendAsync(FrameType.Ping, 0, null, default).ConfigureAwait(false);
        await echo.ConfigureAwait(false);
        samples.Sort();
        double medianRoundTrip = samples[samples.Count / 2];
        return new Result(throughput, medianRoundTrip / 2, big.ByteLength, latencyBytes, got, client.TensorPath, cpuPerGigabyte);
    }
}

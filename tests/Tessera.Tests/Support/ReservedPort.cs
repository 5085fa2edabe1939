using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Tessera.Tests.Support;

/// <summary>
/// A loopback TCP port kept for one test until disposed, for a worker that is killed and started again on its port.
/// Port 0 gives a port from the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), which the kernel
/// also gives out as the local port of any outgoing connection and to any other port-0 listener: between the kill and
/// the restart another test's connection or worker could take it, and the restart would fail. A reserved port lies
/// below that range, where the kernel never places anything by itself, and a lock file (flock, so a crashed test
/// process frees it) keeps the other test processes of a parallel run from reserving it too.
/// </summary>
internal sealed class ReservedPort : IDisposable
{
    private const int LowestPort = 10000;
    private static readonly string s_lockDirectory = Path.Combine(Path.GetTempPath(), "tessera-test-ports");

    private readonly FileStream _lock;

    private ReservedPort(int port, FileStream lockFile)
    {
        Port = port;
        _lock = lockFile;
    }

    public int Port { get; }

    /// <summary>127.0.0.1:<see cref="Port"/>, for --listen.</summary>
    public string Address => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The ports a reservation is taken from: from <see cref="LowestPort"/> to below the ephemeral range.</summary>
    public static (int First, int Last) Range()
    {
        (int low, int high) = EphemeralRange();
        // A host whose ephemeral range starts low (some containers give out 1024-65535) leaves nothing below it: then
        // above it, and with neither, the range itself (the lock files still keep tests apart).
        if (low - LowestPort >= 1000) return (LowestPort, low - 1);
        if (65535 - high >= 1000) return (high + 1, 65535);
        return (LowestPort, 65535);
    }

    /// <summary>The kernel's ephemeral port range (32768-60999 when /proc does not say).</summary>
    public static (int Low, int High) EphemeralRange()
    {
        try
        {
            string[] parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (32768, 60999);
        }
    }

    /// <summary>A port no other reservation holds and nothing listens on or connects from now.</summary>
    public static ReservedPort Take()
    {
        var (first, last) = Range();
        for (int attempt = 0; attempt < 200; attempt++)
        {
            if (TryTake(Random.Shared.Next(first, last + 1)) is { } reserved) return reserved;
        }

        throw new InvalidOperationException($"no free loopback port in {first}-{last} after 200 tries");
    }

    /// <summary><paramref name="port"/> reserved, or null when another reservation holds it or a socket is bound to it.</summary>
    public static ReservedPort? TryTake(int port)
    {
        Directory.CreateDirectory(s_lockDirectory);
        FileStream lockFile;
        try
        {
            // FileShare.None takes an exclusive flock on Linux: another open of the file fails, in another process or this one.
            lockFile = new FileStream(Path.Combine(s_lockDirectory, port.ToString(CultureInfo.InvariantCulture)), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }

        if (IsFree(port)) return new ReservedPort(port, lockFile);
        lockFile.Dispose();
        return null;
    }

    /// <summary>Whether a listener could bind 127.0.0.1:<paramref name="port"/> now (no SO_REUSEADDR: a port still in TIME_WAIT counts as taken).</summary>
    private static bool IsFree(int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose() => _lock.Dispose();
}

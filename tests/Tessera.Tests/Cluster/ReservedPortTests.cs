using System.Net;
using System.Net.Sockets;
using Tessera.Tests.Support;

namespace Tessera.Tests.Cluster;

/// <summary>The ports tests restart workers on: outside the kernel's ephemeral range, one test's at a time.</summary>
public sealed class ReservedPortTests
{
    [Fact]
    public void APortIsTakenBelowTheEphemeralRangeWhereTheKernelPlacesNothing()
    {
        var (low, high) = ReservedPort.EphemeralRange();
        var (first, last) = ReservedPort.Range();
        using var port = ReservedPort.Take();
        Assert.InRange(port.Port, first, last);
        if ((first, last) != (10000, 65535)) Assert.False(port.Port >= low && port.Port <= high, $"{port.Port} is in the ephemeral range {low}-{high}");
        Assert.Equal($"127.0.0.1:{port.Port}", port.Address);
    }

    [Fact]
    public void AReservedOrBoundPortIsNotTakenAgainUntilReleased()
    {
        var held = ReservedPort.Take();
        Assert.Null(ReservedPort.TryTake(held.Port)); // the lock file is held (another process would be refused the same way)
        held.Dispose();
        using (var again = ReservedPort.TryTake(held.Port))
        {
            Assert.NotNull(again);
        }

        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        Assert.Null(ReservedPort.TryTake(((IPEndPoint)listener.LocalEndPoint!).Port)); // another listener, which no lock file tells of
    }
}

using System.Net;
using System.Net.Sockets;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;

namespace Tessera.Fuzz.Targets;

/// <summary>
/// A worker's side of the HMAC handshake (<see cref="ClusterConnection.AcceptAsync"/>) on a real loopback socket, fed
/// the input as everything a client sends. No input can complete it (the proof needs the token and the server's fresh
/// nonce), so an accepted connection is a finding too. Allocations happen on socket threads, out of the check's
/// sight: the bound before authentication is checked where the frames are read (FrameReader's maxPayloadBytes, and
/// FuzzRegressionTests.BeforeAuthenticationAFrameHeaderCannotMakeTheReaderAllocateItsPayload).
/// </summary>
internal sealed class HandshakeTarget : FuzzTarget, IDisposable
{
    private static readonly TransportLimits s_limits = new() { HandshakeTimeout = TimeSpan.FromSeconds(2) };
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly ClusterToken _token = new("fuzzing-token-0123456789abcdef");

    public HandshakeTarget()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
    }

    public override string Name => "handshake";

    public override string Description => "the worker's side of the cluster handshake (ClusterConnection.AcceptAsync) on a loopback socket";

    public override bool MeasuresAllocation => false;

    public override void Parse(ReadOnlySpan<byte> input)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.LingerState = new LingerOption(true, 0); // closed with a reset: a million inputs leave no TIME_WAIT behind
        client.Connect(_listener.LocalEndPoint!);
        var server = _listener.Accept();
        server.LingerState = new LingerOption(true, 0);
        byte[] bytes = input.ToArray();
        var sending = Task.Run(() =>
        {
            try
            {
                client.Send(bytes);
                client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The worker closed first: it refused what it had read.
            }
        });
        try
        {
            var connection = ClusterConnection.AcceptAsync(server, _token, () => new WorkerInfo("w", 1, 0, 0, 0, 0), s_limits, CancellationToken.None).GetAwaiter().GetResult();
            connection.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw new InvalidOperationException("the handshake accepted a client that does not hold the token");
        }
        finally
        {
            client.Dispose();
            sending.GetAwaiter().GetResult();
        }
    }

    public override bool IsRefusal(Exception e) => e is ClusterException;

    public override IEnumerable<byte[]> Seeds(SeedFiles cache)
    {
        var stream = new MemoryStream();
        var writer = new FrameWriter(stream, TransportLimits.Default);
        var hello = new HelloMessage(Protocol.Version, ConnectionRole.Coordinator, Guid.Parse("16fd2706-8baf-433b-82eb-8c7fada847da"), new byte[Protocol.NonceBytes]);
        writer.SendAsync(FrameType.Hello, 0, hello.Write(), default).GetAwaiter().GetResult();
        yield return stream.ToArray();
        writer.SendAsync(FrameType.Auth, 0, new WireWriter().Bytes(new byte[Protocol.ProofBytes]), default).GetAwaiter().GetResult();
        yield return stream.ToArray();
    }

    public void Dispose() => _listener.Dispose();
}

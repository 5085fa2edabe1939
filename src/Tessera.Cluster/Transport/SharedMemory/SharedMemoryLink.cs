using Tessera.Cluster.Transport.Messages;

namespace Tessera.Cluster.Transport.SharedMemory;

/// <summary>
/// Decides whether a connection's tensors go through shared memory and holds the mapping when they do. After the
/// handshake, a client on the same host as its server (same boot id, which READY carries) offers a segment it made;
/// the server accepts only when its boot id and network namespace are the client's and it can open the very file
/// (its cookie matches): processes in other containers or namespaces, and remote peers, keep TCP. The offer
/// and the answer travel inside the authenticated connection, so only a peer that proved the token learns the
/// segment's name. Until the answer (or for good after a refusal) everything goes over TCP; after an acceptance the
/// frames go through the segment's <see cref="FrameRing"/>s too (a <see cref="FrameRingStream"/>), both ways: the server
/// sends its answer as its last frame over TCP, the client its SHARED_MEMORY_SWITCH once it reads the answer, and
/// each side reads from the ring after the other's last TCP frame. The TCP connection stays open, idle, as the sign
/// of life: when it ends (the peer died or closed it), so does the frame stream.
/// </summary>
internal sealed class SharedMemoryLink : IDisposable
{
    private readonly TransportLimits _limits;
    private readonly FrameWriter _writer;
    private readonly Stream _tcp;
    private readonly Lock _lock = new();
    private FrameRingStream? _frames;
    private SharedSegment? _segment;
    private SharedRing? _incoming;
    private bool _offered;
    private bool _answered;
    private bool _disposed;

    public SharedMemoryLink(TransportLimits limits, FrameWriter writer, Stream tcp)
    {
        _limits = limits;
        _writer = writer;
        _tcp = tcp;
    }

    /// <summary>Set once the handshake has authenticated the peer; offers before it are refused as malformed.</summary>
    public bool Authenticated { get; set; }

    /// <summary>How tensors travel now: "shared memory" or "TCP" with the reason.</summary>
    public string State { get; private set; } = "TCP: no shared memory offered";

    /// <summary>Raised with <see cref="State"/> once an offer or answer has been handled.</summary>
    public event Action<string>? Settled;

    /// <summary>The ring tensors from the peer arrive in; a shared-memory tensor frame without one is malformed.</summary>
    public SharedRing Incoming => _incoming ?? throw new ClusterException(ClusterErrorCode.Malformed, "a shared-memory tensor on a connection that shares no memory");

    /// <summary>The stream frames travel through once shared memory was accepted (null before and on TCP).</summary>
    public FrameRingStream? Frames => _frames;

    /// <summary>Whether the peer's frames now come through <see cref="Frames"/> (it sent its last frame over TCP).</summary>
    public bool PeerSendsFrames { get; private set; }

    /// <summary>Client side: offers a segment when the server runs on this host; otherwise the connection keeps TCP.</summary>
    public async Task OfferAsync(ConnectionRole role, WorkerInfo server, CancellationToken cancellation)
    {
        long bytes = _limits.SharedMemoryBytes;
        if (bytes <= 0 || role is not (ConnectionRole.Coordinator or ConnectionRole.Peer))
        {
            State = bytes <= 0 ? "TCP: shared memory is off" : "TCP: no tensors on this connection";
            return;
        }

        if (server.HostId == Guid.Empty || server.HostId != HostIdentity.BootId)
        {
            State = "TCP: the peer runs on another host";
            return;
        }

        // A peer link carries tensors one way only (stage to stage); answers come back as control frames.
        long back = role == ConnectionRole.Peer ? 0 : bytes;
        SharedSegment segment;
        byte[] cookie;
        try
        {
            segment = SharedSegment.Create(bytes, back, out cookie);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Shared memory only saves copies: whatever stops it (no /dev/shm, no room, a platform without it), TCP works.
            State = "TCP: cannot make a shared-memory segment: " + e.Message;
            return;
        }

        lock (_lock)
        {
            if (_disposed)
            {
                segment.Dispose();
                return;
            }

            _segment = segment;
            _incoming = back > 0 ? segment.NewToClientRing() : null;
            _offered = true;
        }

        var offer = new SharedMemoryOfferMessage(HostIdentity.BootId, HostIdentity.NetworkNamespace, segment.Name, bytes, back, cookie);
        await _writer.SendAsync(FrameType.SharedMemoryOffer, 0, offer.Write(), cancellation).ConfigureAwait(false);
    }

    /// <summary>A SHARED_MEMORY_OFFER, _ANSWER or _SWITCH the frame reader met; anything out of turn is malformed.</summary>
    public async ValueTask HandleAsync(Frame frame, CancellationToken cancellation)
    {
        if (!Authenticated)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"{frame.Type} before the handshake completed");
        }

        if (frame.Type == FrameType.SharedMemorySwitch)
        {
            if (_frames is null || !_answered || _offered || PeerSendsFrames || frame.Payload.Length != 0)
            {
                throw new ClusterException(ClusterErrorCode.Malformed, "a shared-memory switch without an accepted offer");
            }

            PeerSendsFrames = true;
            return;
        }

        if (frame.Type == FrameType.SharedMemoryOffer)
        {
            var answer = Accept(SharedMemoryOfferMessage.Read(frame.Payload));
            if (_frames is { } frames)
            {
                // The answer is the last frame this side sends over TCP: nothing may slip in between on the socket.
                await _writer.SendThenSwitchAsync(FrameType.SharedMemoryAnswer, answer.Write(), frames, cancellation).ConfigureAwait(false);
            }
            else
            {
                await _writer.SendAsync(FrameType.SharedMemoryAnswer, 0, answer.Write(), cancellation).ConfigureAwait(false);
            }
        }
        else
        {
            Answered(SharedMemoryAnswerMessage.Read(frame.Payload));
            if (_frames is { } frames)
            {
                // The server's frames come through the ring from here on; ours after this last one over TCP.
                PeerSendsFrames = true;
                await _writer.SendThenSwitchAsync(FrameType.SharedMemorySwitch, new WireWriter(), frames, cancellation).ConfigureAwait(false);
            }
        }

        Settled?.Invoke(State);
    }

    /// <summary>Server side: opens the offered segment when both processes can share it, else says why not.</summary>
    private SharedMemoryAnswerMessage Accept(SharedMemoryOfferMessage offer)
    {
        lock (_lock)
        {
            if (_offered || _answered)
            {
                throw new ClusterException(ClusterErrorCode.Malformed, "a second shared-memory offer on one connection");
            }

            _answered = true;
        }

        string? refusal =
            _limits.SharedMemoryBytes <= 0 ? "shared memory is off here"
            : offer.HostId != HostIdentity.BootId || offer.HostId == Guid.Empty ? "another host"
            : offer.NetworkNamespace != HostIdentity.NetworkNamespace ? "another network namespace"
            : offer.ToServerBytes <= 0 || Math.Max(offer.ToServerBytes, offer.ToClientBytes) > _limits.SharedMemoryBytes || offer.ToServerBytes % 4096 != 0 || offer.ToClientBytes % 4096 != 0
                ? $"rings of {offer.ToServerBytes} and {offer.ToClientBytes} bytes (whole pages, at most {_limits.SharedMemoryBytes} each)"
            : null;
        if (refusal is not null)
        {
            State = "TCP: " + refusal;
            return new SharedMemoryAnswerMessage(false, refusal);
        }

        SharedSegment segment;
        try
        {
            segment = SharedSegment.Open(offer.Name, offer.ToServerBytes, offer.ToClientBytes, offer.Cookie);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            State = "TCP: " + e.Message;
            return new SharedMemoryAnswerMessage(false, e.Message);
        }

        lock (_lock)
        {
            if (_disposed)
            {
                segment.Dispose();
                throw new ClusterException(ClusterErrorCode.WorkerDown, "the connection is closed");
            }

            _segment = segment;
            _incoming = segment.NewToServerRing().Populated();
            if (offer.ToClientBytes > 0)
            {
                _writer.SharedRing = segment.NewToClientRing().Populated();
            }

            _frames = new FrameRingStream(segment.NewToServerFrames().Populated(), segment.NewToClientFrames().Populated(), _limits.ReadTimeout);
        }

        State = "shared memory";
        return new SharedMemoryAnswerMessage(true, string.Empty);
    }

    /// <summary>Client side: the server's answer; the segment's name goes from /dev/shm either way.</summary>
    private void Answered(SharedMemoryAnswerMessage answer)
    {
        SharedSegment? refused = null;
        lock (_lock)
        {
            if (!_offered || _answered)
            {
                throw new ClusterException(ClusterErrorCode.Malformed, "a shared-memory answer to no offer");
            }

            _answered = true;
            if (_segment is null)
            {
                return;
            }

            _segment.Unlink();
            if (answer.Accepted)
            {
                _writer.SharedRing = _segment.NewToServerRing().Populated();
                _frames = new FrameRingStream(_segment.NewToClientFrames().Populated(), _segment.NewToServerFrames().Populated(), _limits.ReadTimeout);
            }
            else
            {
                // Nothing reads or writes the segment yet: only this reader could, and it is here.
                refused = _segment;
                _segment = null;
                _incoming = null;
            }
        }

        State = answer.Accepted ? "shared memory" : "TCP: the peer refused shared memory: " + answer.Reason;
        refused?.Dispose();
    }

    /// <summary>
    /// Once this side reads frames from the ring: waits on the TCP connection, which carries nothing more, and ends the
    /// frame stream when the socket ends (the peer died, closed it or aborted a torn write) or anything arrives on it.
    /// </summary>
    public async Task WatchTcpAsync()
    {
        var frames = _frames!;
        try
        {
            await _tcp.ReadAsync(new byte[1]).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException or NotSupportedException)
        {
        }

        frames.End();
    }

    public void Dispose()
    {
        SharedSegment? segment;
        lock (_lock)
        {
            _disposed = true;
            segment = _segment;
            _segment = null;
        }

        _frames?.End();

        segment?.Dispose();
    }
}

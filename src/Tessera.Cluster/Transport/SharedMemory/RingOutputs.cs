using Tessera.Tensors;

namespace Tessera.Cluster.Transport.SharedMemory;

/// <summary>
/// A stage's outputs computed straight into the outgoing shared ring of the connection they are sent on, instead of
/// into pooled storage that the send then copies into the ring (that copy was 5-6% of a 3-stage GPT pipeline's CPU:
/// perf, bench-cluster). <see cref="Allocate"/> is the session's output allocator for one run: an output of at least
/// <see cref="FrameWriter.SharedMemoryMinBytes"/> gets the ring's next piece, the rest <c>fallback</c>'s storage.
/// The reader gives ring space back in the order it was taken, so the pieces' frames must be the ring's next frames:
/// from its first piece until <see cref="Dispose"/> this holds the writer's ring gate, which every other message that
/// sends tensors takes first (control frames, a PONG among them, do not wait). <see cref="FrameWriter"/> sends the
/// pieces first, in ring order, with no copy; when the message does not carry every piece once (an output nobody
/// needs), or goes on another connection, they are copied out and the ring rewound, so the frames stay in order.
/// One run, one thread at a time; <see cref="Dispose"/> after the message is sent or the run failed.
/// </summary>
internal sealed unsafe class RingOutputs : IDisposable
{
    private readonly FrameWriter _writer;
    private readonly SharedRing _ring;
    private readonly Func<DataType, int[], Tensor> _fallback;
    private readonly TimeSpan _timeout;
    private readonly List<(Tensor Tensor, long Position)> _pieces = [];
    private int _mapped;
    private bool _gateHeld;
    private bool _sent;
    private long _start;

    public RingOutputs(FrameWriter writer, SharedRing ring, Func<DataType, int[], Tensor> fallback, TimeSpan timeout)
    {
        _writer = writer;
        _ring = ring;
        _fallback = fallback;
        _timeout = timeout;
    }

    /// <summary>The writer whose ring the pieces are in: a message on another connection copies them.</summary>
    public FrameWriter Writer => _writer;

    /// <summary>Whether this holds the writer's ring gate (it took a piece).</summary>
    public bool HoldsGate => _gateHeld;

    public SharedRing Ring => _ring;

    /// <summary>An output's storage: the ring's next piece when it is large enough and there is room before the timeout.</summary>
    public Tensor Allocate(DataType dataType, int[] shape)
    {
        long bytes = ShapeMath.ElementCount(shape) * (long)DataTypes.SizeOf(dataType);
        if (dataType == DataType.String || bytes < FrameWriter.SharedMemoryMinBytes || !_ring.Fits(bytes) || _sent || !TakeGate())
        {
            return _fallback(dataType, shape);
        }

        // With this run's own pieces unsent, the reader cannot make room beyond them: waiting would only end at the timeout.
        if (_pieces.Count > 0 && !_ring.CanReserveAfter(_start, bytes))
        {
            return _fallback(dataType, shape);
        }

        long deadline = Environment.TickCount64 + (long)_timeout.TotalMilliseconds;
        byte* pointer;
        long position;
        // Every earlier message is out whole (this holds the gate), so the reader will give room back. Not paced (see
        // SharedRing.Paces): this waits inside the stage's run, which would stop computing for a reader not scheduled
        // yet (3-stage GPT pipeline, one pair at load 11: 335 -> 229 rows/s, CPU per row 2.10 -> 2.19 ms with it).
        while (!_ring.TryReserve(bytes, out position, out pointer))
        {
            if (Environment.TickCount64 >= deadline) return _fallback(dataType, shape);
            _ring.WaitForReader(bytes, 10_000);
        }

        _mapped++;
        var tensor = Tensor.FromPointer(dataType, shape, pointer, this);
        _pieces.Add((tensor, position));
        return tensor;
    }

    /// <summary>
    /// The message's tensors in the order to send them: the pieces first, in ring order, when the message carries each
    /// once and sends it as it is; otherwise the pieces replaced by copies and the ring rewound (none of it was sent).
    /// </summary>
    public List<KeyValuePair<string, Tensor>> Order(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, WireDataType wire)
    {
        var ordered = new List<KeyValuePair<string, Tensor>>(tensors.Count);
        if (_pieces.Count == 0) return [.. tensors];
        foreach (var (tensor, _) in _pieces)
        {
            int found = -1;
            for (int i = 0; i < tensors.Count; i++)
            {
                if (!ReferenceEquals(tensors[i].Value, tensor)) continue;
                found = found < 0 ? i : int.MaxValue;
            }

            if (found is < 0 or int.MaxValue || WireEncoding.For(tensor.DataType, wire).IsNarrowed)
            {
                return CopiedOut(tensors);
            }

            ordered.Add(tensors[found]);
        }

        foreach (var pair in tensors)
        {
            if (pair.Value.StorageOwner != this) ordered.Add(pair);
        }

        return ordered;
    }

    /// <summary>The ring position of <paramref name="tensor"/> when it is one of the pieces (its frame then carries that, no bytes copied).</summary>
    public bool TryPositionOf(Tensor tensor, out long position)
    {
        foreach (var piece in _pieces)
        {
            if (ReferenceEquals(piece.Tensor, tensor))
            {
                _sent = true;
                position = piece.Position;
                return true;
            }
        }

        position = 0;
        return false;
    }

    public void Dispose()
    {
        if (!_sent && _pieces.Count > 0)
        {
            _ring.Rewind(_start);
        }

        _pieces.Clear();
        for (; _mapped > 0; _mapped--)
        {
            _ring.ReleaseReserved();
        }

        if (_gateHeld)
        {
            _gateHeld = false;
            _writer.RingGate.Release();
        }
    }

    /// <summary>
    /// Takes the ring gate if it is free. Never waits: another run holding it may compute for a long time before its
    /// frames go out, and waiting for it here would serialise concurrent runs on one connection; the copy is cheaper.
    /// </summary>
    private bool TakeGate()
    {
        if (_gateHeld) return true;
        if (!_writer.RingGate.Wait(0)) return false;
        _gateHeld = true;
        _start = _ring.Position;
        return true;
    }

    private List<KeyValuePair<string, Tensor>> CopiedOut(IReadOnlyList<KeyValuePair<string, Tensor>> tensors)
    {
        var copied = new List<KeyValuePair<string, Tensor>>(tensors.Count);
        foreach (var (name, tensor) in tensors)
        {
            if (tensor.StorageOwner != this)
            {
                copied.Add(new(name, tensor));
                continue;
            }

            var copy = Tensor.Allocate(tensor.DataType, tensor.Shape);
            tensor.Bytes.CopyTo(copy.Bytes);
            copied.Add(new(name, copy));
        }

        _ring.Rewind(_start);
        _pieces.Clear();
        return copied;
    }
}

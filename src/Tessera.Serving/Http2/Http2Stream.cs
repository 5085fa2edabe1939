namespace Tessera.Serving.Http2;

/// <summary>
/// One stream of an <see cref="Http2Connection"/>: the request's fields, both directions' flow-control windows,
/// and what the call on it has sent. The reading side belongs to the connection's loop; the sending side is
/// changed under <see cref="Http2FrameWriter"/>'s lock, from whichever thread answers.
/// </summary>
internal sealed class Http2Stream
{
    private readonly Http2FrameWriter _writer;
    private readonly int _receiveWindow;
    private int _consumed;
    private int _receiveWindowLeft;
    private int _answering;

    public Http2Stream(int id, Http2FrameWriter writer, long sendWindow, int receiveWindow)
    {
        Id = id;
        _writer = writer;
        SendWindow = sendWindow;
        _receiveWindow = receiveWindow;
        _receiveWindowLeft = receiveWindow;
    }

    public int Id { get; }

    /// <summary>The request's fields, pseudo-fields included, in the order received.</summary>
    public List<KeyValuePair<string, string>> Fields { get; } = [];

    /// <summary>Takes <paramref name="bytes"/> of DATA from the stream's receive window; false when the client sent past it.</summary>
    public bool TakeReceiveWindow(int bytes) => Interlocked.Add(ref _receiveWindowLeft, -bytes) >= 0;

    /// <summary>Octets of DATA this side may still send (under the writer's lock).</summary>
    public long SendWindow { get; set; }

    /// <summary>The client ended its side (END_STREAM) or the stream was reset: no more frames are read for it.</summary>
    public bool RequestEnded { get; set; }

    /// <summary>This side sent END_STREAM or RST_STREAM (under the writer's lock): nothing more is sent on it.</summary>
    public bool AnswerEnded { get; set; }

    /// <summary>Whether response HEADERS went out (the next header block is the trailers).</summary>
    public bool HeadersSent { get; set; }

    /// <summary>Cancelled when the client resets the stream or the connection closes.</summary>
    public CancellationTokenSource Aborted { get; } = new();

    /// <summary>What handles the stream's data, set once its fields are read.</summary>
    public IHttp2Call? Call { get; set; }

    public string? Field(string name)
    {
        foreach (var (key, value) in Fields)
        {
            if (key == name) return value;
        }

        return null;
    }

    /// <summary>True for the first caller only: who ends the call (its answer, its deadline, a refusal).</summary>
    public bool TryEnd() => Interlocked.Exchange(ref _answering, 1) == 0;

    /// <summary>
    /// <paramref name="bytes"/> of the stream's DATA were taken by the call: the client may send them again. The
    /// window is given back in halves, so a stream costs a WINDOW_UPDATE per half window, not per frame.
    /// </summary>
    public void Consumed(int bytes)
    {
        int total = Interlocked.Add(ref _consumed, bytes);
        if (total >= _receiveWindow / 2 && Interlocked.CompareExchange(ref _consumed, 0, total) == total)
        {
            Interlocked.Add(ref _receiveWindowLeft, total); // before the client hears of it
            _writer.GiveBack(this, total);
        }
    }
}

namespace Tessera.Serving.Http2;

/// <summary>
/// HPACK's dynamic table (RFC 7541 §2.3.2, §4): newest entry first, each counting its name's and value's octets
/// plus 32, the oldest evicted to stay within the size the encoder last set.
/// </summary>
internal sealed class HpackDynamicTable
{
    private const int EntryOverhead = 32;

    private (string Name, string Value)[] _ring = new (string, string)[16];
    private int _newest = -1;
    private int _count;
    private int _size;
    private int _maxSize;

    public HpackDynamicTable(int maxSize)
    {
        _maxSize = maxSize;
    }

    public int Count => _count;

    /// <summary>Entry <paramref name="index"/>, 1 the newest.</summary>
    public (string Name, string Value) this[int index] => _ring[(_newest - (index - 1) + _ring.Length) % _ring.Length];

    public void Resize(int maxSize)
    {
        _maxSize = maxSize;
        Evict(0);
    }

    public void Add(string name, string value)
    {
        int size = name.Length + value.Length + EntryOverhead;
        if (size > _maxSize)
        {
            // An entry larger than the table empties it and is not added (§4.4).
            _count = 0;
            _size = 0;
            return;
        }

        Evict(size);
        if (_count == _ring.Length)
        {
            var grown = new (string, string)[_ring.Length * 2];
            for (int i = 0; i < _count; i++) grown[_count - 1 - i] = this[i + 1];
            _ring = grown;
            _newest = _count - 1;
        }

        _newest = (_newest + 1) % _ring.Length;
        _ring[_newest] = (name, value);
        _count++;
        _size += size;
    }

    private void Evict(int room)
    {
        while (_count > 0 && _size + room > _maxSize)
        {
            var (name, value) = this[_count];
            _size -= name.Length + value.Length + EntryOverhead;
            _count--;
        }
    }
}

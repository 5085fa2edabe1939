using Tessera.Tensors;

namespace Tessera.Cluster.Transport.SharedMemory;

/// <summary>
/// A piece of an incoming <see cref="SharedRing"/> that a received tensor views in place (the storage owner of that
/// tensor) instead of being copied out: the ring's writer may not overwrite it until <see cref="Dispose"/>, and the
/// segment stays mapped for it until then even if the connection closes. Whoever received the tensor disposes the
/// lease once nothing reads the tensor any more; a lease never disposed holds its writer back for good.
/// </summary>
internal sealed class RingLease : IDisposable
{
    private readonly SharedRing? _ring;
    private int _disposed;

    /// <param name="ring">The ring to give the piece back to; null for a piece already copied out (nothing to hold).</param>
    /// <param name="end">The ring position just past the piece.</param>
    public RingLease(SharedRing? ring, long end)
    {
        _ring = ring;
        End = end;
    }

    /// <summary>The ring position just past the piece: the consumed position once this and every earlier piece are back.</summary>
    public long End { get; }

    /// <summary>Set (under the ring's lease lock) once the piece is given back.</summary>
    public bool Released { get; set; }

    /// <summary>Gives back the incoming ring's pieces that received tensors view in place (others are left alone).</summary>
    public static void GiveBack(IEnumerable<Tensor> tensors)
    {
        foreach (var tensor in tensors)
        {
            GiveBack(tensor);
        }
    }

    /// <inheritdoc cref="GiveBack(IEnumerable{Tensor})"/>
    public static void GiveBack(Tensor? tensor)
    {
        if (tensor?.StorageOwner is RingLease lease)
        {
            lease.Dispose();
        }
    }

    /// <summary>Gives the piece back to the ring; later calls do nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _ring?.GiveBack(this);
        }
    }
}

using System.Numerics;

namespace Tessera.Kernels.Pooling;

/// <summary>
/// A pool kernel's geometry, output shape and average divisors for the last input shape it saw, so that runs with
/// fixed shapes rebuild none of them. A kernel never runs concurrently with itself, so no locking is needed.
/// </summary>
internal sealed class PoolShapeCache(PoolAttributes attributes)
{
    private int[]? _inputShape;
    private PoolGeometry? _geometry;
    private int[]? _outputShape;
    private object? _divisors;

    public PoolGeometry Geometry => _geometry!;

    public int[] OutputShape => _outputShape!;

    /// <summary>Makes <see cref="Geometry"/> and <see cref="OutputShape"/> describe <paramref name="inputShape"/>.</summary>
    public void Update(int[] inputShape)
    {
        if (_inputShape is not null && _inputShape.AsSpan().SequenceEqual(inputShape))
        {
            return;
        }

        // Resolve validates the shape, so nothing is kept when it throws.
        var geometry = attributes.Resolve(inputShape);
        _geometry = geometry;
        _outputShape = geometry.OutputShape(attributes.SpatialRank);
        _divisors = null;
        _inputShape = (int[])inputShape.Clone();
    }

    /// <summary>The average divisors of the current geometry for element type <typeparamref name="T"/>.</summary>
    public AverageDivisors<T> Divisors<T>(bool countIncludePad)
        where T : unmanaged, INumber<T>
    {
        if (_divisors is not AverageDivisors<T> divisors)
        {
            divisors = new AverageDivisors<T>(Geometry, countIncludePad);
            _divisors = divisors;
        }

        return divisors;
    }
}

using Tessera.Tensors;

namespace Tessera.Kernels.Normalization;

/// <summary>
/// Holds a parameter converted/expanded by <see cref="NormalizationParameters.Expand"/>; when the parameter is a
/// constant the converted tensor is reused for every run with the same target shape.
/// </summary>
internal sealed class ParameterCache(Tensor? constant, string what)
{
    private Tensor? _cached;
    private DataType _cachedType;
    private int[] _cachedShape = [];

    public Tensor Get(Tensor parameter, DataType type, ReadOnlySpan<int> target)
    {
        if (!ReferenceEquals(parameter, constant))
        {
            return NormalizationParameters.Expand(parameter, type, target, what);
        }

        if (_cached is null || _cachedType != type || !target.SequenceEqual(_cachedShape))
        {
            _cached = NormalizationParameters.Expand(parameter, type, target, what);
            _cachedType = type;
            _cachedShape = target.ToArray();
        }

        return _cached;
    }
}

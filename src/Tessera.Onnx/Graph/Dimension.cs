namespace Tessera.Onnx.Graph;

/// <summary>One dimension of a declared shape: a number, a named symbol (e.g. "batch"), or unknown.</summary>
public readonly record struct Dimension(long? Value, string? Symbol)
{
    public static Dimension Known(long value) => new(value, null);

    public static Dimension Named(string symbol) => new(null, symbol);

    public static readonly Dimension Unknown = new(null, null);

    public bool IsKnown => Value.HasValue;

    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Symbol ?? "?";
}

using System.Globalization;
using System.Numerics;
using Tessera.Kernels.Core;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// Text to numbers as NumPy's astype does for Cast from string: decimal or scientific notation, surrounding
/// whitespace allowed, and "nan"/"inf"/"infinity" in any case with an optional sign.
/// </summary>
internal static class NumpyParse
{
    private const NumberStyles FloatStyle = NumberStyles.Float;

    public static T Parse<T>(string text) where T : unmanaged, INumber<T>
    {
        string s = text.Trim();
        if (ElementTypes.IsFloat<T>())
        {
            if (TryNonFinite(s, out double special))
            {
                return T.CreateTruncating(special);
            }

            // Parse in the target precision so values are rounded once, not via double.
            if (T.TryParse(s, FloatStyle, CultureInfo.InvariantCulture, out T value))
            {
                return value;
            }
        }
        else
        {
            if (T.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out T value))
            {
                return value;
            }

            if (double.TryParse(s, FloatStyle, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d))
            {
                return T.CreateTruncating(d);
            }
        }

        throw new KernelException($"Cast: cannot parse '{text}' as a number");
    }

    public static bool ParseBool(string text)
    {
        string s = text.Trim();
        if (s.Equals("true", StringComparison.OrdinalIgnoreCase)) return true;
        if (s.Equals("false", StringComparison.OrdinalIgnoreCase)) return false;
        return Parse<double>(s) != 0;
    }

    private static bool TryNonFinite(string s, out double value)
    {
        bool negative = s.StartsWith('-');
        string body = s.StartsWith('-') || s.StartsWith('+') ? s[1..] : s;
        if (body.Equals("nan", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NaN;
            return true;
        }

        if (body.Equals("inf", StringComparison.OrdinalIgnoreCase) || body.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }

        value = 0;
        return false;
    }
}

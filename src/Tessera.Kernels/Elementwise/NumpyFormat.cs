using System.Globalization;
using System.Text;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// Numbers to text as NumPy's str() writes them (what the ONNX reference uses for Cast to string): the shortest
/// digits that round-trip in the value's own precision, positional between 1e-4 and 1e16 ("1.0", "0.0001"),
/// scientific otherwise ("1e-05", "1.5e+16"), and "nan", "inf", "-inf".
/// </summary>
internal static class NumpyFormat
{
    public static string Format(float value) =>
        float.IsFinite(value) ? Layout(value.ToString("R", CultureInfo.InvariantCulture), Math.Abs(value)) : NonFinite(value);

    public static string Format(double value) =>
        double.IsFinite(value) ? Layout(value.ToString("R", CultureInfo.InvariantCulture), Math.Abs(value)) : NonFinite(value);

    public static string Format(Half value) =>
        Half.IsFinite(value) ? Layout(value.ToString(CultureInfo.InvariantCulture), Math.Abs((double)value)) : NonFinite((double)value);

    public static string Format(bool value) => value ? "True" : "False";

    private static string NonFinite(double value) => double.IsNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";

    /// <summary>Re-lays out .NET's shortest round-trip text ("1.5E-05", "-123.25") in NumPy's style.</summary>
    private static string Layout(string shortest, double magnitude)
    {
        bool negative = shortest.StartsWith('-');
        string body = negative ? shortest[1..] : shortest;
        int e = body.IndexOfAny(['E', 'e']);
        int exponent = e < 0 ? 0 : int.Parse(body[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        string mantissa = e < 0 ? body : body[..e];
        int dot = mantissa.IndexOf('.');
        string digits = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        int pointPosition = (dot < 0 ? mantissa.Length : dot) + exponent;

        // Normalize to significant digits D (no leading or trailing zeros) with value = 0.D × 10^pointPosition.
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') lead++;
        digits = digits[lead..];
        pointPosition -= lead;
        digits = digits.TrimEnd('0');
        var text = new StringBuilder(negative ? "-" : string.Empty);
        if (digits.Length == 0)
        {
            return text.Append("0.0").ToString();
        }

        if (magnitude >= 1e-4 && magnitude < 1e16)
        {
            if (pointPosition <= 0)
            {
                text.Append("0.").Append('0', -pointPosition).Append(digits);
            }
            else if (pointPosition >= digits.Length)
            {
                text.Append(digits).Append('0', pointPosition - digits.Length).Append(".0");
            }
            else
            {
                text.Append(digits, 0, pointPosition).Append('.').Append(digits, pointPosition, digits.Length - pointPosition);
            }

            return text.ToString();
        }

        text.Append(digits[0]);
        if (digits.Length > 1)
        {
            text.Append('.').Append(digits, 1, digits.Length - 1);
        }

        int scientific = pointPosition - 1;
        text.Append('e').Append(scientific < 0 ? '-' : '+').Append(Math.Abs(scientific).ToString("00", CultureInfo.InvariantCulture));
        return text.ToString();
    }
}

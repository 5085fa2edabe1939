using System.Text;

namespace Tessera.Tensors.Formats;

/// <summary>The file name a tensor is written to or read from, by its name (`run` outputs, `batch` datasets and outputs).</summary>
public static class TensorFileName
{
    /// <summary>Every character outside [A-Za-z0-9._-] becomes '_', so any tensor name is a safe file name.</summary>
    public static string Safe(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char c in name)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        }

        return sb.ToString();
    }
}

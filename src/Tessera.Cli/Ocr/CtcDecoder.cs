using Tessera.Cli.Common;
using Tessera.Tensors;

namespace Tessera.Cli.Ocr;

/// <summary>
/// Greedy CTC decoding of the recogniser's per-step character probabilities (PaddleOCR's CTCLabelDecode): the most
/// likely symbol at each step, repeats merged, blanks dropped; the confidence is the mean probability of the kept
/// steps. Symbol 0 is the blank, then the dictionary's lines in order, then a space.
/// </summary>
internal sealed class CtcDecoder
{
    private readonly string[] _symbols;

    public CtcDecoder(IReadOnlyList<string> dictionary)
    {
        _symbols = ["", .. dictionary, " "];
    }

    public int SymbolCount => _symbols.Length;

    /// <summary>The dictionary file: one symbol per line (ppocr_keys_v1.txt for the PP-OCR Chinese models).</summary>
    public static CtcDecoder Load(string path)
    {
        if (!File.Exists(path)) throw new CliException($"{path}: no such dictionary file (one symbol per line, e.g. ppocr_keys_v1.txt)");
        string text = File.ReadAllText(path);
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return new CtcDecoder(lines);
    }

    /// <summary>Decodes each row of probabilities shaped [batch, steps, symbols].</summary>
    public (string Text, double Confidence)[] Decode(Tensor probabilities)
    {
        if (probabilities.Shape is not [var batch, var steps, var symbols])
        {
            throw new CliException($"the recogniser's output should be [batch, steps, symbols], not {ShapeMath.Format(probabilities.Shape)}");
        }

        if (symbols != _symbols.Length)
        {
            throw new CliException($"the recogniser scores {symbols} symbols but its dictionary has {_symbols.Length - 2} (+ blank and space): the wrong dictionary for this model");
        }

        var p = probabilities.Span<float>();
        var result = new (string, double)[batch];
        for (int n = 0; n < batch; n++)
        {
            var text = new System.Text.StringBuilder();
            double sum = 0;
            int kept = 0, previous = -1;
            for (int t = 0; t < steps; t++)
            {
                var row = p.Slice((n * steps + t) * symbols, symbols);
                int best = 0;
                for (int s = 1; s < symbols; s++)
                {
                    if (row[s] > row[best]) best = s;
                }

                if (best != 0 && best != previous)
                {
                    text.Append(_symbols[best]);
                    sum += row[best];
                    kept++;
                }

                previous = best;
            }

            result[n] = (text.ToString(), kept == 0 ? 0 : sum / kept);
        }

        return result;
    }
}

using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tessera.Cli.Conformance;

/// <summary>
/// Writes case results as JSON for tools that build reports (conformance/write-report.py): per case the outcome,
/// detail, seconds, operators and largest differences, and per data set its inputs and differences.
/// Non-finite differences are written as null (not measured) or the strings "inf".
/// </summary>
public static class ReportWriter
{
    public static void Write(string path, double atol, double rtol, IReadOnlyList<CaseResult> results, IReadOnlyList<string> caseDirs)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartObject();
        json.WriteNumber("atol", atol);
        json.WriteNumber("rtol", rtol);
        json.WriteStartArray("cases");
        for (int i = 0; i < results.Count; i++)
        {
            WriteCase(json, results[i], caseDirs[i]);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteCase(Utf8JsonWriter json, CaseResult result, string dir)
    {
        json.WriteStartObject();
        json.WriteString("name", result.Name);
        json.WriteString("path", Path.GetFullPath(dir));
        json.WriteString("outcome", result.Outcome.ToString().ToLowerInvariant());
        json.WriteString("detail", result.Detail);
        json.WriteNumber("seconds", Math.Round(result.Seconds, 4));
        json.WriteStartArray("operators");
        foreach (string op in result.Operators)
        {
            json.WriteStringValue(op);
        }

        json.WriteEndArray();
        WriteDiff(json, "maxAbsDiff", result.MaxAbsDiff);
        WriteDiff(json, "maxRelDiff", result.MaxRelDiff);
        json.WriteStartArray("dataSets");
        foreach (var dataSet in result.DataSets)
        {
            json.WriteStartObject();
            json.WriteString("name", dataSet.Name);
            json.WriteStartArray("inputs");
            foreach (var input in dataSet.Inputs)
            {
                json.WriteStartObject();
                json.WriteString("name", input.Name);
                json.WriteString("type", input.ElementType);
                json.WriteStartArray("shape");
                foreach (int dim in input.Shape)
                {
                    json.WriteNumberValue(dim);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            WriteDiff(json, "maxAbsDiff", dataSet.MaxAbsDiff);
            WriteDiff(json, "maxRelDiff", dataSet.MaxRelDiff);
            if (dataSet.Failure is null)
            {
                json.WriteNull("failure");
            }
            else
            {
                json.WriteString("failure", dataSet.Failure);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteDiff(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsNaN(value))
        {
            json.WriteNull(name);
        }
        else if (double.IsInfinity(value))
        {
            json.WriteString(name, "inf");
        }
        else
        {
            json.WriteNumber(name, value);
        }
    }
}

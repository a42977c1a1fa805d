using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace AspireLlm.Orchestration.Redaction;

public static partial class PiiRedactor
{
    private readonly record struct Finding(int Start, int End, Kind Kind);

    /// <summary>
    /// Accepted findings, sorted and non-overlapping. Allocated on the first finding only, so clean text
    /// never pays for it.
    /// </summary>
    private struct Findings(bool stopAtFirst)
    {
        private List<Finding>? _accepted;

        public readonly bool IsEmpty => _accepted is null;

        public readonly bool Done => stopAtFirst && _accepted is not null;

        /// <summary>Start of the first finding that ends after <paramref name="position"/>, or int.MaxValue.</summary>
        public readonly int NextStartFrom(int position)
        {
            if (_accepted is null)
            {
                return int.MaxValue;
            }

            var index = FirstEndingAfter(position);
            return index < _accepted.Count ? _accepted[index].Start : int.MaxValue;
        }

        private readonly int FirstEndingAfter(int position)
        {
            // Ends are sorted too, because accepted spans never overlap.
            var first = 0;
            var upper = _accepted!.Count;
            while (first < upper)
            {
                var middle = (first + upper) >>> 1;
                if (_accepted[middle].End <= position)
                {
                    first = middle + 1;
                }
                else
                {
                    upper = middle;
                }
            }

            return first;
        }

        public void Add(int start, int length, Kind kind)
        {
            var end = start + length;
            _accepted ??= [];
            var first = FirstEndingAfter(start);
            var last = first;
            while (last < _accepted.Count && _accepted[last].Start < end)
            {
                last++;
            }

            if (first == last)
            {
                _accepted.Insert(first, new Finding(start, end, kind));
                return;
            }

            if (last - first == 1 && _accepted[first].Start <= start && _accepted[first].End >= end)
            {
                return;
            }

            var merged = new Finding(Math.Min(start, _accepted[first].Start), Math.Max(end, _accepted[last - 1].End), kind);
            for (var i = first; i < last; i++)
            {
                if (_accepted[i].Kind < merged.Kind)
                {
                    merged = merged with { Kind = _accepted[i].Kind };
                }
            }

            _accepted.RemoveRange(first, last - first);
            _accepted.Insert(first, merged);
        }

        public readonly string Apply(string text)
        {
            var builder = new StringBuilder(text.Length);
            var position = 0;
            foreach (var finding in _accepted!)
            {
                builder.Append(text, position, finding.Start - position).Append(Placeholders[(int)finding.Kind]);
                position = finding.End;
            }

            return builder.Append(text, position, text.Length - position).ToString();
        }
    }
}

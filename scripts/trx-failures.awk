# Prints each failed test's name and the first 30 lines of its message from a .trx file, without the stack trace.
# Used by scripts/test.sh right above its summary line.
/<UnitTestResult / {
  failed = ($0 ~ /outcome="Failed"/)
  if (failed) { n = $0; sub(/.*testName="/, "", n); sub(/".*/, "", n); print "FAILED " n; shown = 0 }
}
failed && /<Message>/ { inmsg = 1; sub(/.*<Message>/, "") }
failed && inmsg {
  line = $0; done = sub(/<\/Message>.*/, "", line)
  gsub(/&#xD;/, "", line); gsub(/&#xA;/, " ", line)
  gsub(/&lt;/, "<", line); gsub(/&gt;/, ">", line); gsub(/&quot;/, "\"", line); gsub(/&apos;/, "'", line); gsub(/&amp;/, "\\&", line)
  if (shown < 30) { print "  " line; shown++ } else if (shown == 30) { print "  ..."; shown++ }
  if (done) { inmsg = 0; failed = 0 }
}

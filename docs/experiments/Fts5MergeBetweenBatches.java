import java.sql.*; import java.util.*;
/**
 * Where FTS5's segment merges run, with sqlite-jdbc's SQLite (docs/benchmark.md, "What the search index costs a
 * durable turn, pinned"): batches of 60 ~2 KB messages into a table and a contentless index like V9's, with the
 * index's own merges inside each batch ("default") or automerge 0 and a 'merge' step of 16 pages in a transaction of
 * its own after each batch ("am0+merge16"). Prints the batches' and the steps' latencies and the work per tenth.
 * Run: javac Fts5MergeBetweenBatches.java && java -cp .:PATH/sqlite-jdbc-3.54.1.0.jar Fts5MergeBetweenBatches 12000
 * (a scratch database in /tmp/ftsj, which must exist).
 */
public class Fts5MergeBetweenBatches {
  static String[] W={"the","agent","reads","file","src","main","App","java","and","runs","tests","error","expected","value","at","line","42","patch","applied","build","ok","refactor","function"};
  public static void main(String[] a) throws Exception {
    Random r=new Random(42); String[] msgs=new String[500];
    for(int i=0;i<500;i++){StringBuilder sb=new StringBuilder(); for(int k=0;k<330;k++) sb.append(W[r.nextInt(W.length)]).append(' '); msgs[i]=sb.toString();}
    String[] labels={"default","am0+merge16"};
    for (int round=0; round<1; round++) for (String label: labels) run(label, msgs, Integer.parseInt(a[0]));
  }
  static void run(String label, String[] msgs, int batches) throws Exception {
    String p="/tmp/ftsj/db"; for(String s: new String[]{"","-wal","-shm"}) new java.io.File(p+s).delete();
    try (Connection c=DriverManager.getConnection("jdbc:sqlite:"+p); Statement st=c.createStatement()) {
      st.execute("pragma journal_mode=wal"); st.execute("pragma synchronous=off");
      st.execute("create table m(id integer primary key, body text)");
      st.execute("create virtual table t using fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0')");
      if (label.startsWith("am0")) st.execute("insert into t(t, rank) values('automerge', 0)");
      int merge = label.endsWith("merge64") ? 64 : label.endsWith("merge-64") ? -64 : label.endsWith("merge16") ? 16 : 0;
      c.setAutoCommit(false);
      PreparedStatement im=c.prepareStatement("insert into m(id, body) values(?,?)"), it=c.prepareStatement("insert into t(rowid, body) values(?,?)");
      PreparedStatement mg=c.prepareStatement("insert into t(t, rank) values('merge', ?)");
      long[] ts=new long[batches]; long[] ms=new long[batches]; long idle=0; int rowid=0; long steps=0;
      for (int b=0;b<batches;b++) {
        long t0=System.nanoTime();
        for (int i=0;i<60;i++){ rowid++; im.setInt(1,rowid); im.setString(2,msgs[rowid%500]); im.executeUpdate(); it.setInt(1,rowid); it.setString(2,msgs[rowid%500]); it.executeUpdate(); }
        c.commit(); ts[b]=System.nanoTime()-t0;
        if (merge!=0) { long t1=System.nanoTime(); mg.setInt(1, merge); mg.executeUpdate(); c.commit(); steps++; ms[b]=System.nanoTime()-t1; idle+=ms[b]; }
      }
      st.execute("insert into t(t) values('integrity-check')"); c.commit();
      long sum=0; for(long x: ts) sum+=x; long[] q=new long[10]; for(int k=0;k<10;k++){long w=0; for(int b=k*batches/10;b<(k+1)*batches/10;b++) w+=ts[b]+ms[b]; q[k]=w/1000000;} System.out.println(label+" work per tenth, ms: "+Arrays.toString(q)); Arrays.sort(ms); System.out.printf("  merge step p99 %.2f max %.1f ms%n", ms[(int)(batches*.99)]/1e6, ms[batches-1]/1e6); Arrays.sort(ts); int n=ts.length;
      ResultSet rs=st.executeQuery("select count(*) from t_data"); rs.next(); long rows=rs.getLong(1);
      System.out.printf("%-18s batches %.1fs + merges %.1fs, p50 %.2f p99 %.2f p999 %.2f max %.1f ms, t_data %d%n", label, sum/1e9, idle/1e9, ts[n/2]/1e6, ts[(int)(n*.99)]/1e6, ts[(int)(n*.999)]/1e6, ts[n-1]/1e6, rows);
    }
  }
}

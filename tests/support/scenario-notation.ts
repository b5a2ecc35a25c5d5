/**
 * The compact one-line notation of the scenario files: how positions, configurations, log runs,
 * messages and actions are printed, and how hand-built messages are parsed back (the parser reads
 * exactly what the printer writes).
 *
 *   position        (term,index)                      e.g. (1,3)
 *   configuration   config(voters=a,b,c[;newVoters=..][;nonVoters=..])
 *   log run         prev=(1,3) entries=[4:term(2) 5-7:cmd 8:config(voters=a,b)]
 *                   term(N) is the entry a new leader appends at the start of term N; N:cmd a command
 *                   (payloads are never in the state); entries=[] is an empty run (heartbeat, probe,
 *                   or, as appendLog, "truncate after prev").
 *   messages        requestVote term=2 last=(1,3)
 *                   requestVoteReply term=2 granted | refused
 *                   appendEntries term=2 commit=3 prev=(1,3) entries=[...]
 *                   appendEntriesReply term=2 last=(2,5)
 *   actions         setTimer follower | saveHardState term=2 votedFor=a | compactLog (1,4)
 *                   | appendLog prev=.. entries=[..] | commitAdvanced 5 | broadcast <message>
 *                   | send b <message> | installSnapshot b
 *                   | rejected propose notLeader leaderHint=a count=1 | invalidEvent <reason> | fatal <reason>
 */
import {
  flatItems,
  toChunks,
  type RaftAction,
  type ClusterConfig,
  type LogEntries,
  type Message,
} from '../../src/index.js';

/** A position `(term,index)`. */
export function fmtPos(term: number, index: number): string {
  return `(${term},${index})`;
}

/** A configuration, omitting empty lists other than the voters. */
export function fmtConfig(c: ClusterConfig): string {
  const parts = [`voters=${c.voters.join(',')}`];
  if (c.newVoters.length > 0) parts.push(`newVoters=${c.newVoters.join(',')}`);
  if (c.nonVoters.length > 0) parts.push(`nonVoters=${c.nonVoters.join(',')}`);
  return `config(${parts.join(';')})`;
}

/** The entries of a run, with runs of commands compressed: `[4:term(2) 5-7:cmd]`. */
export function fmtEntryList(e: LogEntries): string {
  const specials: Array<{ index: number; text: string }> = [];
  for (const s of flatItems(e.termStarts)) specials.push({ index: s.index, text: `term(${s.term})` });
  for (const c of e.configs) specials.push({ index: c.index, text: fmtConfig(c.config) });
  specials.sort((x, y) => x.index - y.index);
  const parts: string[] = [];
  let next = e.prevIndex + 1;
  const commands = (from: number, to: number): void => {
    if (from <= to) parts.push(from === to ? `${from}:cmd` : `${from}-${to}:cmd`);
  };
  for (const s of specials) {
    commands(next, s.index - 1);
    parts.push(`${s.index}:${s.text}`);
    next = s.index + 1;
  }
  commands(next, e.lastIndex);
  return `[${parts.join(' ')}]`;
}

/** A run: `prev=(t,i) entries=[...]`. */
export function fmtEntries(e: LogEntries): string {
  return `prev=${fmtPos(e.prevTerm, e.prevIndex)} entries=${fmtEntryList(e)}`;
}

/** A message, without its sender (the scenario prints `from->to` in front of it). */
export function fmtMessage(m: Message): string {
  switch (m.type) {
    case 'requestVote':
      return `requestVote term=${m.term} last=${fmtPos(m.lastTerm, m.lastIndex)}${m.transfer === true ? ' transfer' : ''}`;
    case 'preVote':
      return `preVote term=${m.term} last=${fmtPos(m.lastTerm, m.lastIndex)}`;
    case 'preVoteReply':
      return `preVoteReply term=${m.term} ${m.granted ? 'granted' : 'refused'}`;
    case 'timeoutNow':
      return `timeoutNow term=${m.term}`;
    case 'leadershipCheck':
      return `leadershipCheck term=${m.term} round=${m.round}`;
    case 'leadershipCheckReply':
      return `leadershipCheckReply term=${m.term} round=${m.round}`;
    case 'readIndex':
      return `readIndex term=${m.term} ids=${m.ids.join(',')}`;
    case 'readIndexReply':
      return `readIndexReply term=${m.term} reads=${m.reads.map((r) => `${r.id}:${r.index}`).join(',')}`;
    case 'requestVoteReply':
      return `requestVoteReply term=${m.term} ${m.granted ? 'granted' : 'refused'}`;
    case 'appendEntries':
      return `appendEntries term=${m.term} commit=${m.commitIndex} ${fmtEntries(m.entries)}`;
    case 'appendEntriesReply':
      return `appendEntriesReply term=${m.term} last=${fmtPos(m.lastTerm, m.lastIndex)}`;
  }
}

/** One action on one line. */
export function fmtAction(a: RaftAction): string {
  switch (a.type) {
    case 'setTimer':
      return `setTimer ${a.wait}`;
    case 'saveHardState':
      return `saveHardState term=${a.term} votedFor=${a.votedFor ?? '-'}`;
    case 'appendLog':
      return `appendLog ${fmtEntries(a.entries)}${a.concurrent === true ? ' concurrent' : ''}`;
    case 'compactLog':
      return `compactLog ${fmtPos(a.term, a.index)}`;
    case 'commitAdvanced':
      return `commitAdvanced ${a.commitIndex}`;
    case 'broadcast':
      return `broadcast ${fmtMessage(a.message)}`;
    case 'send':
      return `send ${a.to} ${fmtMessage(a.message)}`;
    case 'installSnapshot':
      return `installSnapshot ${a.to}`;
    case 'rejected':
      return a.request === 'read'
        ? `rejected read ${a.reason} leaderHint=${a.leaderHint ?? '-'} id=${a.id ?? '-'}`
        : `rejected ${a.request} ${a.reason} leaderHint=${a.leaderHint ?? '-'} count=${a.count}`;
    case 'readReady':
      return `readReady ${a.id} index=${a.index}`;
    case 'invalidEvent':
      return `invalidEvent ${a.reason}`;
    case 'fatal':
      return `fatal ${a.reason}`;
    default:
      return `unknown action ${JSON.stringify(a)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing (hand-built messages, positions and configurations in scenario commands)

/** Parse `(term,index)`. */
export function parsePos(text: string): { term: number; index: number } {
  const m = /^\((\d+),(\d+)\)$/.exec(text);
  if (m === null) throw new Error(`bad position "${text}" (expected (term,index))`);
  return { term: Number(m[1]), index: Number(m[2]) };
}

/** Parse a comma-separated id list (`-` or empty for none). */
export function parseIds(text: string): string[] {
  return text === '' || text === '-' ? [] : text.split(',');
}

/** Parse the inside of `config(...)`: `voters=a,b;newVoters=..;nonVoters=..`. */
export function parseConfig(text: string): ClusterConfig {
  const lists: Record<string, string[]> = { voters: [], newVoters: [], nonVoters: [] };
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq);
    if (eq < 0 || !(key in lists)) throw new Error(`bad configuration part "${part}"`);
    lists[key] = parseIds(part.slice(eq + 1));
  }
  const sorted = (ids: string[]): string[] => [...new Set(ids)].sort();
  return { voters: sorted(lists.voters!), newVoters: sorted(lists.newVoters!), nonVoters: sorted(lists.nonVoters!) };
}

/** Parse an entry list (without the brackets) anchored at `prev` into a run. */
export function parseEntries(prev: { term: number; index: number }, list: string): LogEntries {
  let index = prev.index;
  let term = prev.term;
  const termStarts: Array<{ index: number; term: number }> = [];
  const configs: Array<{ index: number; config: ClusterConfig }> = [];
  for (const token of list.split(/\s+/).filter((t) => t !== '')) {
    let m: RegExpExecArray | null;
    let first: number;
    let last: number;
    if ((m = /^(\d+)(?:-(\d+))?:cmd$/.exec(token)) !== null) {
      first = Number(m[1]);
      last = m[2] === undefined ? first : Number(m[2]);
    } else if ((m = /^(\d+):term\((\d+)\)$/.exec(token)) !== null) {
      first = last = Number(m[1]);
      term = Number(m[2]);
      termStarts.push({ index: first, term });
    } else if ((m = /^(\d+):config\((.*)\)$/.exec(token)) !== null) {
      first = last = Number(m[1]);
      configs.push({ index: first, config: parseConfig(m[2]!) });
    } else {
      throw new Error(`bad entry "${token}" (expected N:cmd, N-M:cmd, N:term(T) or N:config(...))`);
    }
    if (first !== index + 1 || last < first) throw new Error(`entry "${token}" does not follow index ${index}`);
    index = last;
  }
  return {
    prevTerm: prev.term,
    prevIndex: prev.index,
    lastTerm: term,
    lastIndex: index,
    termStarts: toChunks(termStarts),
    configs,
  };
}

/** Parse a message as {@link fmtMessage} prints it, sent by `from`. */
export function parseMessage(from: string, text: string): Message {
  let rest = text;
  let entryList: string | null = null;
  const em = /\bentries=\[([^\]]*)\]/.exec(rest);
  if (em !== null) {
    entryList = em[1]!;
    rest = rest.slice(0, em.index) + rest.slice(em.index + em[0].length);
  }
  const [type, ...words] = rest.trim().split(/\s+/);
  const kv: Record<string, string> = {};
  const flags = new Set<string>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) flags.add(w);
    else kv[w.slice(0, eq)] = w.slice(eq + 1);
  }
  const num = (key: string): number => {
    const v = kv[key];
    if (v === undefined || !/^\d+$/.test(v)) throw new Error(`${type}: missing or bad ${key}=`);
    return Number(v);
  };
  const pos = (key: string): { term: number; index: number } => {
    const v = kv[key];
    if (v === undefined) throw new Error(`${type}: missing ${key}=`);
    return parsePos(v);
  };
  switch (type) {
    case 'requestVote': {
      const last = pos('last');
      return {
        type,
        from,
        term: num('term'),
        lastTerm: last.term,
        lastIndex: last.index,
        transfer: flags.has('transfer'),
      };
    }
    case 'preVote': {
      const last = pos('last');
      return { type, from, term: num('term'), lastTerm: last.term, lastIndex: last.index };
    }
    case 'preVoteReply':
      if (flags.has('granted') === flags.has('refused')) throw new Error('preVoteReply: say granted or refused');
      return { type, from, term: num('term'), granted: flags.has('granted') };
    case 'timeoutNow':
      return { type, from, term: num('term') };
    case 'leadershipCheck':
    case 'leadershipCheckReply':
      return { type, from, term: num('term'), round: num('round') };
    case 'readIndex':
      return { type, from, term: num('term'), ids: (kv.ids ?? '').split(',') };
    case 'readIndexReply':
      return {
        type,
        from,
        term: num('term'),
        reads: (kv.reads ?? '').split(',').map((r) => {
          const [id, index] = r.split(':');
          return { id: id!, index: Number(index) };
        }),
      };
    case 'requestVoteReply':
      if (flags.has('granted') === flags.has('refused')) throw new Error('requestVoteReply: say granted or refused');
      return { type, from, term: num('term'), granted: flags.has('granted') };
    case 'appendEntries':
      return {
        type,
        from,
        term: num('term'),
        commitIndex: num('commit'),
        entries: parseEntries(pos('prev'), entryList ?? ''),
      };
    case 'appendEntriesReply': {
      const last = pos('last');
      return { type, from, term: num('term'), lastTerm: last.term, lastIndex: last.index };
    }
    default:
      throw new Error(`unknown message type "${type ?? ''}"`);
  }
}

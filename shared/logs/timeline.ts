/**
 * Matches → what the timeline draws: one lane per source and unit, runs of
 * the same signature collapsed into one marker with a count, and a short
 * cause-and-effect story (the datastore failed → the API server could not
 * reach it → the kubelet restarted it in a loop).
 */
import { STAGE_ORDER, type LogSeverity, type SignatureMatch, type StoryStep, type TimelineEvent, type TimelineLane } from './types';

/** Matches of one signature closer together than this are one burst. */
export const BURST_GAP_MS = 5 * 60_000;
/** Match ids remembered per burst (the count stays exact). */
const MAX_IDS_PER_EVENT = 200;
const MAX_SUBJECTS = 6;

/** The thing a match is about, when it names one: a component, container, pod, unit or process. */
export function subjectOf(fields: Readonly<Record<string, string>>): string | null {
  return fields.component ?? fields.container ?? fields.pod ?? fields.unit ?? fields.process ?? null;
}

function addSubject(list: string[], fields: Readonly<Record<string, string>>): void {
  const s = subjectOf(fields);
  if (s !== null && !list.includes(s) && list.length < MAX_SUBJECTS) list.push(s);
}

export const SEVERITY_RANK: Readonly<Record<LogSeverity, number>> = { critical: 3, error: 2, warning: 1, info: 0 };

export function laneId(source: string, unit: string | null): string {
  return unit ? `${source}\n${unit}` : source;
}

/**
 * What a lane is called: the source, and the unit only when it says more
 * (a journal unit `kubelet` or `kubelet.service` in a source named `kubelet`
 * is the same thing, not "kubelet · kubelet").
 */
export function laneLabel(lane: { source: string; unit: string | null }): string {
  if (!lane.unit) return lane.source;
  const unit = lane.unit.replace(/\.service$/, '');
  return unit.toLowerCase() === lane.source.toLowerCase() ? lane.source : `${lane.source} · ${lane.unit}`;
}

export interface Timeline {
  lanes: TimelineLane[];
  events: TimelineEvent[];
  story: StoryStep[];
  range: { start: number; end: number } | null;
}

export function buildTimeline(
  matches: readonly SignatureMatch[],
  laneOrder: readonly { source: string; unit: string | null }[],
  counts: Readonly<Record<string, number>>,
): Timeline {
  const lanes = new Map<string, TimelineLane>();
  for (const l of laneOrder) {
    const id = laneId(l.source, l.unit);
    if (!lanes.has(id)) lanes.set(id, { id, source: l.source, unit: l.unit, matches: 0 });
  }
  const groups = new Map<string, SignatureMatch[]>();
  for (const m of matches) {
    const lane = lanes.get(m.lane);
    if (lane) lane.matches++;
    const key = `${m.lane}\u0000${m.signatureId}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(m);
  }

  const events: TimelineEvent[] = [];
  for (const group of groups.values()) {
    // Timed matches in time order; untimed ones (a source with no clock at all) in line order.
    const sorted = [...group].sort((a, b) => (a.time ?? -Infinity) - (b.time ?? -Infinity) || a.id - b.id);
    let cur: TimelineEvent | null = null;
    for (const m of sorted) {
      const joins = cur !== null && (m.time === null ? cur.last === null : cur.last !== null && m.time - cur.last <= BURST_GAP_MS);
      if (cur && joins) {
        cur.count++;
        if (m.time !== null) cur.last = m.time;
        if (SEVERITY_RANK[m.severity] > SEVERITY_RANK[cur.severity]) cur.severity = m.severity;
        if (cur.matchIds.length < MAX_IDS_PER_EVENT) cur.matchIds.push(m.id);
        addSubject(cur.subjects, m.fields);
        continue;
      }
      cur = {
        id: 0,
        lane: m.lane,
        signatureId: m.signatureId,
        severity: m.severity,
        stage: m.stage,
        engine: m.engine,
        first: m.time,
        last: m.time,
        count: 1,
        matchIds: [m.id],
        fields: m.fields,
        subjects: [],
      };
      addSubject(cur.subjects, m.fields);
      events.push(cur);
    }
  }
  const laneIndex = new Map([...lanes.keys()].map((k, i) => [k, i]));
  events.sort(
    (a, b) => (a.first ?? -Infinity) - (b.first ?? -Infinity) || (laneIndex.get(a.lane) ?? 0) - (laneIndex.get(b.lane) ?? 0) || a.matchIds[0] - b.matchIds[0],
  );
  events.forEach((e, i) => (e.id = i));

  let range: Timeline['range'] = null;
  for (const e of events) {
    if (e.first === null || e.last === null) continue;
    if (!range) range = { start: e.first, end: e.last };
    else {
      range.start = Math.min(range.start, e.first);
      range.end = Math.max(range.end, e.last);
    }
  }

  return { lanes: [...lanes.values()], events, story: buildStory(events, counts), range };
}

/**
 * One step per stage, in cause-to-effect order: the most serious event of
 * that stage, the earliest among equals. Informational matches tell no story.
 */
export function buildStory(events: readonly TimelineEvent[], counts: Readonly<Record<string, number>>): StoryStep[] {
  const steps: StoryStep[] = [];
  let causeTime: number | null = null;
  for (const stage of STAGE_ORDER) {
    let best: TimelineEvent | null = null;
    for (const e of events) {
      if (e.stage !== stage || e.severity === 'info') continue;
      if (
        !best ||
        SEVERITY_RANK[e.severity] > SEVERITY_RANK[best.severity] ||
        (SEVERITY_RANK[e.severity] === SEVERITY_RANK[best.severity] && (e.first ?? -Infinity) < (best.first ?? -Infinity))
      ) {
        best = e;
      }
    }
    if (best) {
      // The story runs cause → effect. Of the chosen signature, show the first burst at or after the
      // step before it; when every burst is earlier, the logs caught different rounds of a repeating
      // failure, and the step says so instead of letting the clock run backwards silently.
      const pick = best;
      if (causeTime !== null && pick.first !== null && pick.first < causeTime) {
        let later: TimelineEvent | null = null;
        for (const e of events) {
          if (e.stage !== stage || e.signatureId !== pick.signatureId || e.first === null || e.first < causeTime) continue;
          if (!later || (later.first ?? Infinity) > e.first) later = e;
        }
        if (later) best = later;
      }
      const subjects: string[] = [];
      for (const e of events) {
        if (e.stage === stage && e.signatureId === best.signatureId)
          for (const s of e.subjects) if (!subjects.includes(s) && subjects.length < MAX_SUBJECTS) subjects.push(s);
      }
      steps.push({
        stage,
        eventId: best.id,
        signatureId: best.signatureId,
        lane: best.lane,
        time: best.first,
        count: counts[best.signatureId] ?? best.count,
        fields: best.fields,
        subjects,
        earlierThanCause: causeTime !== null && best.first !== null && best.first < causeTime,
      });
      if (best.first !== null) causeTime = causeTime === null ? best.first : Math.max(causeTime, best.first);
    }
  }
  return steps;
}

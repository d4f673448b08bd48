/** A message shown on the home screen after something did not work (or was cancelled). */
export interface Notice {
  tone: 'error' | 'info';
  message: string;
  /** Technical detail (error text), shown in mono. */
  detail?: string;
}

import { useLab } from '../storeContext.tsx';
import { AnnotationSection } from './AnnotationSection.tsx';
import { DatasetSection } from './DatasetSection.tsx';
import { DeviationsNote } from './DeviationsNote.tsx';
import { EvaluationSection } from './EvaluationSection.tsx';
import { ModelSection } from './ModelSection.tsx';
import { PresetBar } from './PresetBar.tsx';
import { TrainingSection } from './TrainingSection.tsx';

/** Every field of the ExperimentSpec. Sections remount when the spec is replaced (preset, link) so no stale text survives. */
export function SpecForm() {
  const revision = useLab((s) => s.revision);
  return (
    <form className="spec-form" aria-label="Experiment spec" onSubmit={(e) => e.preventDefault()} noValidate>
      <PresetBar />
      <div key={revision}>
        <AnnotationSection />
        <ModelSection />
        <EvaluationSection />
        <TrainingSection />
        <DatasetSection />
      </div>
      <DeviationsNote />
    </form>
  );
}

//! [`Predictions`]: what a predict job produced, a data set on the server that can be
//! downloaded or read as a typed frame.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use super::context::Context;
use super::error::AutomlError;
use crate::automl::ml::{parse_csv, CsvLimits, Frame};

/// The predictions made by a predict job: a data set on the server.
#[derive(Debug, Clone)]
pub struct Predictions {
    /// The server's data id of the predictions.
    pub data_id: String,
    /// The model that made them.
    pub model_id: String,
    pub(crate) ctx: Context,
}

impl Predictions {
    /// Streams the predictions CSV into a file; returns its size in bytes.
    ///
    /// # Errors
    /// If the server cannot be reached or refuses, or the file cannot be written.
    ///
    /// # Examples
    /// ```
    /// # use taskloop::automl::{serve, Context, ServerConfig};
    /// # let server = serve(ServerConfig::new("me", "secret"))?;
    /// # let ctx = Context::connect(&server.url(), "me", "secret")?;
    /// use taskloop::automl::{CsvSource, PredictInput, TrainInput};
    /// use taskloop::flow::Flow;
    ///
    /// let mut flow = Flow::new();
    /// let data = ctx.upload(&mut flow, "data", CsvSource::text("t.csv", "id,x,y\n1,1,2\n2,2,4\n3,3,6\n4,4,8\n"));
    /// let exp = ctx.train(&mut flow, "train", TrainInput::new(&data, "y").algos(["GLM"]).nfold(2));
    /// let pred = ctx.predict(&mut flow, "predict", PredictInput::new(&data, &exp).keep_columns(["id"]));
    /// flow.run();
    /// let path = std::env::temp_dir().join(format!("taskloop-doc-{}.csv", std::process::id()));
    /// let bytes = pred.result()?.download(&path)?;
    /// let text = std::fs::read_to_string(&path)?;
    /// std::fs::remove_file(&path)?;
    /// assert!(text.starts_with("id,y,prediction\n"));
    /// assert!(bytes > 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn download(&self, path: impl AsRef<Path>) -> Result<u64, AutomlError> {
        let path = path.as_ref();
        let (n, out) = self.ctx.inner.transport.download(&self.file_path(), || {
            Ok(BufWriter::new(File::create(path)?))
        })?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(n)
    }

    /// Reads the predictions as a typed [`Frame`]: the kept columns, the target column
    /// when the scored data has it, `prediction`, and for classifiers one probability
    /// column per class, named by the class label (as the real service names them).
    ///
    /// # Errors
    /// If the server cannot be reached or refuses, or answers a malformed CSV.
    ///
    /// # Examples
    /// ```
    /// # use taskloop::automl::{serve, Context, ServerConfig};
    /// # let server = serve(ServerConfig::new("me", "secret"))?;
    /// # let ctx = Context::connect(&server.url(), "me", "secret")?;
    /// use taskloop::automl::{CsvSource, PredictInput, TrainInput};
    /// use taskloop::flow::Flow;
    ///
    /// let rows = (0..40).map(|i| vec![i.to_string(), if i < 20 { "low" } else { "high" }.to_string()]);
    /// let mut flow = Flow::new();
    /// let data = ctx.upload(&mut flow, "data", CsvSource::rows("t.csv", &["x", "level"], rows));
    /// let exp = ctx.train(&mut flow, "train", TrainInput::new(&data, "level").algos(["DRF"]).nfold(2));
    /// let pred = ctx.predict(&mut flow, "predict", PredictInput::new(&data, &exp));
    /// flow.run();
    /// let frame = pred.result()?.frame()?;
    /// let names: Vec<&str> = frame.column_names().collect();
    /// assert_eq!(names, ["level", "prediction", "high", "low"]);
    /// assert_eq!(frame.column("prediction").unwrap().text(0).as_deref(), Some("low"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn frame(&self) -> Result<Frame, AutomlError> {
        let (_, bytes) = self
            .ctx
            .inner
            .transport
            .download(&self.file_path(), || Ok(Vec::new()))?;
        parse_csv(bytes.as_slice(), &CsvLimits::default())
            .map_err(|e| AutomlError::protocol(format!("the predictions CSV is malformed: {e}")))
    }

    fn file_path(&self) -> String {
        format!("/v2/data/{}/file", self.data_id)
    }
}
